// Spark's page enhancements. Every action works without this file; with it, likes, reposts and
// follows need no reload, the composer counts characters and previews the chosen images beside
// their description fields, and new home posts are announced.
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

  // "Add image": a preview and an "Image description" field for each chosen file, in the order
  // the files are sent (the server pairs the n-th description with the n-th image).
  function mediaPicker(box) {
    var input = box.querySelector(".image-input");
    var list = box.querySelector(".media-previews");
    var problem = box.querySelector(".media-problem");
    if (!input || !list) return;
    var max = parseInt(box.getAttribute("data-max-images"), 10) || 4;
    var maxDescription = parseInt(box.getAttribute("data-max-description"), 10) || 1500;
    box.classList.add("enhanced");

    function setFiles(files) {
      if (!window.DataTransfer) return false;
      var keep = new DataTransfer();
      files.forEach(function (file) { keep.items.add(file); });
      input.files = keep.files;
      return true;
    }

    function render() {
      var files = Array.from(input.files || []);
      problem.hidden = true;
      if (files.length > max) {
        files = files.slice(0, max);
        if (setFiles(files)) {
          problem.textContent = "A post has at most " + max + " images: the first " + max + " are kept.";
          problem.hidden = false;
        }
      }
      var typed = {};
      list.querySelectorAll("input[name=description]").forEach(function (field) {
        typed[field.getAttribute("data-file")] = field.value;
      });
      list.textContent = "";
      files.forEach(function (file, n) {
        var key = file.name + "/" + file.size;
        var id = input.id + "-description-" + (n + 1);
        var item = document.createElement("li");
        var preview = document.createElement("img");
        preview.alt = "Preview of " + (file.name || "image " + (n + 1));
        preview.width = 72;
        preview.height = 72;
        var reader = new FileReader();
        reader.onload = function () { preview.src = String(reader.result); };
        reader.readAsDataURL(file);
        var label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = "Image description";
        var field = document.createElement("input");
        field.type = "text";
        field.name = "description";
        field.id = id;
        field.maxLength = maxDescription;
        field.placeholder = "What is in this image? (read out to people who cannot see it)";
        field.setAttribute("data-file", key);
        field.value = typed[key] || "";
        item.append(preview, label);
        if (window.DataTransfer) {
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "remove";
          remove.textContent = "Remove";
          remove.setAttribute("aria-label", "Remove image " + (n + 1));
          remove.addEventListener("click", function () {
            setFiles(Array.from(input.files).filter(function (_f, i) { return i !== n; }));
            render();
            input.focus();
          });
          item.append(remove);
        }
        item.append(field);
        list.append(item);
      });
    }

    input.addEventListener("change", render);
    input.form.addEventListener("reset", function () { list.textContent = ""; });
    if (input.files && input.files.length) render(); // files kept by a back/forward navigation
  }

  // A remote image the proxy could not fetch (or that failed Spark's checks) becomes a link to
  // where it lives, with its alt text, as the server renders it on the next view.
  function unavailable(img) {
    var open = img.closest("a.media-open[data-remote]");
    if (!open) return;
    var href = open.getAttribute("data-remote");
    var link = document.createElement("a");
    link.className = "media-unavailable";
    link.href = href;
    link.rel = "noopener noreferrer nofollow";
    var alt = document.createElement("span");
    alt.className = "media-alt";
    alt.textContent = img.alt;
    var where = document.createElement("span");
    where.className = "muted";
    var host = "";
    try { host = new URL(href).hostname; } catch (e) { host = href; }
    where.textContent = "(image on " + host + ", not shown here)";
    link.append(alt, " ", where);
    open.replaceWith(link);
  }

  document.addEventListener("error", function (event) {
    if (event.target && event.target.tagName === "IMG") unavailable(event.target);
  }, true);

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
    bookmark: ["unbookmark", "Remove bookmark", "bookmarked"], unbookmark: ["bookmark", "Bookmark", ""],
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

  // "More options" menus: one open at a time, closed by Escape (focus back on its button) and by
  // a click elsewhere. Without this file they open and close with their own button.
  function menus() {
    function open() { return Array.from(document.querySelectorAll("details.menu[open]")); }
    document.addEventListener("click", function (event) {
      open().forEach(function (menu) {
        if (!menu.contains(event.target)) menu.open = false;
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      open().forEach(function (menu) {
        menu.open = false;
        var button = menu.querySelector("summary");
        if (button && menu.contains(document.activeElement)) button.focus();
      });
    });
  }

  // An import's page: its progress, polled every two seconds, and the page reloaded once the job
  // has ended (to show the summary). Without this file the page refreshes itself (<noscript>).
  function importProgress(box) {
    var url = box.getAttribute("data-progress");
    var bar = box.querySelector("progress");
    var count = box.querySelector(".progress-count");
    if (!url || !bar) return;
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) return;
          if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
          if (job.total) {
            bar.max = job.total;
            bar.value = job.done;
            if (count) {
              count.textContent = job.done + " of " + job.total + " items (" +
                Math.min(100, Math.floor(job.done * 100 / job.total)) + "%)";
            }
          }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }

  // Scheduling: times are typed and shown in the browser's own zone. The form sends the offset
  // (JavaScript's getTimezoneOffset at the chosen time); without this file the times are UTC.
  function localTimes() {
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    document.querySelectorAll("input[data-local-time]").forEach(function (input) {
      var form = input.form;
      var offset = form && form.querySelector("input[name=tz_offset]");
      if (!offset) return;
      if (input.value) {
        var utc = new Date(input.value + "Z");
        input.value = utc.getFullYear() + "-" + pad(utc.getMonth() + 1) + "-" + pad(utc.getDate()) +
          "T" + pad(utc.getHours()) + ":" + pad(utc.getMinutes());
      }
      var zone = form.querySelector("label[for='" + input.id + "'] .tz");
      if (zone) zone.textContent = "(your time)";
      form.addEventListener("submit", function () {
        if (input.value) offset.value = String(new Date(input.value).getTimezoneOffset());
      });
    });
    document.querySelectorAll("time[data-local-time]").forEach(function (time) {
      var at = new Date(time.getAttribute("datetime"));
      if (!isNaN(at)) time.textContent = at.toLocaleString([], {dateStyle: "medium", timeStyle: "short"});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    menus();
    localTimes();
    document.querySelectorAll("textarea[data-max]").forEach(counter);
    document.querySelectorAll("form[data-enhance]").forEach(enhance);
    document.querySelectorAll(".composer-media").forEach(mediaPicker);
    document.querySelectorAll("a.media-open[data-remote] img").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) unavailable(img);
    });
    var bar = document.querySelector(".new-posts[data-newer]");
    if (bar) pollNewer(bar);
    document.querySelectorAll(".import-job[data-progress]").forEach(importProgress);
    shortcuts();
  });
})();
