// Spark's page enhancements. Every action works without this file; with it, likes, reposts and
// follows need no reload, the composer counts characters, and new home posts are announced.
"use strict";

(function () {
  function counter(textarea) {
    var output = document.querySelector('output[data-for="' + textarea.id + '"]');
    var max = parseInt(textarea.getAttribute("data-max"), 10);
    if (!output || !max) return;
    function update() {
      var left = max - Array.from(textarea.value).length;
      output.textContent = String(left);
      output.classList.toggle("over", left < 0);
    }
    textarea.addEventListener("input", update);
    update();
  }

  function enhance(form) {
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("button");
      if (!button || !window.fetch) return;
      event.preventDefault();
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (state) {
        swap(form, state);
      }).catch(function () {
        form.submit();
      }).finally(function () {
        button.disabled = false;
      });
    });
  }

  // Like <-> Unlike, Repost <-> Undo repost, Follow <-> Unfollow / Cancel request.
  var PAIRS = {
    like: ["unlike", "Unlike", "liked"], unlike: ["like", "Like", ""],
    repost: ["unrepost", "Undo repost", "reposted"], unrepost: ["repost", "Repost", ""],
  };

  function swap(form, state) {
    var parts = form.action.split("/");
    var verb = parts.pop();
    var button = form.querySelector("button");
    if (PAIRS[verb]) {
      var next = PAIRS[verb];
      parts.push(next[0]);
      form.action = parts.join("/");
      button.setAttribute("aria-label", next[1]);
      button.title = next[1];
      button.setAttribute("aria-pressed", state.pressed ? "true" : "false");
      form.className = "action " + next[2];
      var count = form.querySelector(".count");
      if (count && typeof state.count === "number") count.textContent = String(state.count);
    } else if (verb === "follow") {
      parts.push("unfollow");
      form.action = parts.join("/");
      button.textContent = state.state === "accepted" ? "Unfollow" : "Cancel request";
      button.className = "button secondary";
    } else if (verb === "unfollow") {
      parts.push("follow");
      form.action = parts.join("/");
      button.textContent = "Follow";
      button.className = "button primary";
    }
  }

  function pollNewer(bar) {
    var url = bar.getAttribute("data-newer");
    var since = bar.getAttribute("data-since");
    var rounds = 0;
    function poll() {
      if (document.hidden || rounds > 720) return; // an hour at most per page view
      rounds += 1;
      fetch(url + "?since_id=" + encodeURIComponent(since), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { count: 0 }; })
        .then(function (data) {
          if (data.count > 0) {
            bar.querySelector(".n").textContent = data.count > 20 ? "20+" : String(data.count);
            bar.hidden = false;
          }
        })
        .catch(function () {});
    }
    setInterval(poll, 5000);
  }

  function shortcuts() {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
      var posts = Array.from(document.querySelectorAll("article.post"));
      var current = posts.indexOf(document.activeElement);
      if (event.key === "n") {
        var box = document.querySelector(".composer textarea");
        if (box) { event.preventDefault(); box.focus(); }
      } else if (event.key === "/") {
        var search = document.getElementById("search-q");
        if (search) { event.preventDefault(); search.focus(); }
      } else if ((event.key === "j" || event.key === "k") && posts.length) {
        var next = event.key === "j" ? Math.min(current + 1, posts.length - 1) : Math.max(current - 1, 0);
        posts[next].tabIndex = -1;
        posts[next].focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-max]").forEach(counter);
    document.querySelectorAll("form[data-enhance]").forEach(enhance);
    var bar = document.querySelector(".new-posts[data-newer]");
    if (bar) pollNewer(bar);
    shortcuts();
  });
})();
