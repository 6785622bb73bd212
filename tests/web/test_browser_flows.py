"""What a person does in the browser, across two real Spark instances and the fake Mastodon peer.

Each test drives Chromium through the pages only (labels, button names, links) and checks what
reached the other side in that instance's own database, or in the peer's record of its inbox.
"""

from __future__ import annotations

import aiohttp
from playwright.async_api import expect

from outbox import actions, interactions, posts
from spark_fed.models import FollowState
from tests.conftest import eventually
from tests.peers import FakeMastodon

from .support import follow_state, handle, sign_in, status_by_uri, statuses, user


def _count(post, button: str):
    """The count shown beside the action button named BUTTON ("Like", "Undo repost"...) of POST."""
    button_named = post.page.get_by_role("button", name=button, exact=True)
    return post.locator(".action", has=button_named).locator(".count")


def _post(page, text: str):
    """The <article> of the post whose content has TEXT."""
    return page.locator("article.post").filter(has=page.locator(".content", has_text=text))


async def _reload_until(page, locator, what: str, timeout: float = 10.0) -> None:
    """Reload PAGE until LOCATOR shows: what arrives over federation lands in the database, not the page."""

    async def shown() -> bool:
        await page.reload()
        return await locator.count() > 0

    await eventually(shown, timeout=timeout, what=what)


async def test_sign_in_post_follow_interact_reply_edit_delete_across_two_sparks(start_spark, page) -> None:
    a = await start_spark()
    b = await start_spark()
    alice = await user(a, "alice", display_name="Alice")
    bob = await user(b, "bob", display_name="Bob")

    # Sign in, post, and see the post at the top of home.
    await sign_in(page, a, "alice")
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Home", "Explore", "Notifications", "Profile", "Settings"):
        await expect(nav.get_by_role("link", name=name)).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    box = page.get_by_label("What's happening?")
    await box.fill("Hello from the browser")
    await expect(page.locator("output.counter")).to_have_text(str(500 - len("Hello from the browser")))
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{a.base}/")
    first = page.locator("article.post").first
    await expect(first.locator(".content")).to_have_text("Hello from the browser")
    await expect(first.locator(".author")).to_contain_text("Alice")
    await expect(first.locator(".author")).to_contain_text("@alice")

    # Follow bob on the other instance through the search box.
    search = page.get_by_role("search").get_by_label("Search", exact=True)
    await search.fill(handle(b, "bob"))
    await search.press("Enter")
    await page.wait_for_url(f"{a.base}/search?**")
    card = page.locator("article.account-card").filter(has_text=handle(b, "bob"))
    await expect(card).to_contain_text("Bob")
    await card.get_by_role("button", name="Follow").click()
    await page.wait_for_url(f"{a.base}/{handle(b, 'bob')}")
    await eventually(
        lambda: _is(follow_state(a, alice.uri, bob.uri), FollowState.ACCEPTED), what="the Accept from bob"
    )
    await page.reload()
    await expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    await expect(page.get_by_role("heading", level=1, name="Bob")).to_be_visible()

    # bob posts on his instance; it arrives in alice's home.
    bobs = await posts.post(b.ctx, bob, "Hello from the other Spark")
    await page.goto(f"{a.base}/")
    arrived = _post(page, "Hello from the other Spark")
    await _reload_until(page, arrived, "bob's post in alice's home")
    await expect(arrived.locator(".author")).to_contain_text(handle(b, "bob"))
    local_copy = await status_by_uri(a, bobs.uri)
    assert local_copy is not None
    thread_url = f"/{handle(b, 'bob')}/{local_copy.id}"
    await expect(arrived.locator(f'a[href="{thread_url}"] time[datetime]')).to_have_count(1)

    # Like and repost it (the buttons answer without a reload) and see both reach bob's instance.
    await expect(_count(arrived, "Like")).to_have_text("0")
    await arrived.get_by_role("button", name="Like", exact=True).click()
    await expect(_count(arrived, "Unlike")).to_have_text("1")
    await arrived.get_by_role("button", name="Repost", exact=True).click()
    await expect(_count(arrived, "Undo repost")).to_have_text("1")

    async def counted() -> bool:
        there = await status_by_uri(b, bobs.uri)
        return there is not None and there.favourites_count == 1 and there.reblogs_count == 1

    await eventually(counted, what="the Like and the Announce on bob's instance")
    # After a reload the post is still shown once (a repost of what a feed holds is not added to
    # it, as in Mastodon), with alice's like and repost pressed.
    await page.reload()
    await expect(_post(page, "Hello from the other Spark")).to_have_count(1)
    shown = _post(page, "Hello from the other Spark")
    await expect(_count(shown, "Unlike")).to_have_text("1")
    await expect(shown.get_by_role("button", name="Unlike")).to_have_attribute("aria-pressed", "true")
    await expect(shown.get_by_role("button", name="Undo repost")).to_have_attribute("aria-pressed", "true")

    # Reply from the thread page: the composer names bob, and the reply is stored on his instance.
    await arrived.first.get_by_role("link", name="Reply").click()
    await page.wait_for_url(f"{a.base}{thread_url}#reply")
    reply_box = page.get_by_label("Post your reply")
    await expect(reply_box).to_have_value(f"{handle(b, 'bob')} ")
    await reply_box.fill(f"{handle(b, 'bob')} Nice to meet you!")
    await page.get_by_role("button", name="Reply", exact=True).click()
    await page.wait_for_url(f"{a.base}{thread_url}")
    replies = page.get_by_role("region", name="Replies")
    mine = replies.locator("article.post").filter(has_text="Nice to meet you!")
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".context")).to_have_text(f"Replying to {handle(b, 'bob')}")

    async def reply_on_b():
        rows = [s for s in await statuses(b) if s.in_reply_to_id == bobs.id]
        return rows[0] if rows and "Nice to meet you!" in rows[0].content else None

    stored_reply = await eventually(reply_on_b, what="the reply on bob's instance")
    assert (await status_by_uri(b, bobs.uri)).replies_count == 1

    # The reply's own thread page shows bob's post above it.
    await mine.locator("time").click()
    await expect(page.get_by_role("heading", name="Post", level=1)).to_be_visible()
    thread = page.get_by_role("region", name="Thread")
    await expect(thread.locator("article.post")).to_have_count(2)
    await expect(thread.locator("article.post").first).to_contain_text("Hello from the other Spark")
    await expect(thread.locator("article.post.focus")).to_contain_text("Nice to meet you!")
    assert stored_reply.uri.startswith(a.base)

    # bob follows alice back; alice edits, then deletes, a new post; both reach bob's instance.
    await actions.follow(b.ctx, bob, f"alice@{a.domain}")
    await eventually(
        lambda: _is(follow_state(b, bob.uri, alice.uri), FollowState.ACCEPTED), what="alice's Accept"
    )
    await page.goto(f"{a.base}/")
    await page.get_by_label("What's happening?").fill("A typo in thsi post")
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{a.base}/")
    [sent] = [s for s in await statuses(a) if s.text == "A typo in thsi post"]
    await eventually(lambda: status_by_uri(b, sent.uri), what="alice's post on bob's instance")

    typo = _post(page, "A typo in thsi post")
    await typo.get_by_label("More options").click()  # one's own post's menu: pin, edit, delete
    await typo.get_by_role("link", name="Edit").click()
    editor = page.get_by_label("Post text")
    await expect(editor).to_have_value("A typo in thsi post")
    await editor.fill("No typo in this post")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"{a.base}/@alice/{sent.id}")
    focus = page.locator("article.post.focus")
    await expect(focus.locator(".content")).to_have_text("No typo in this post")
    await expect(focus.locator(".edited")).to_have_text("edited")

    async def edited_on_b() -> bool:
        there = await status_by_uri(b, sent.uri)
        return there is not None and "No typo in this post" in there.content and there.edited_at is not None

    await eventually(edited_on_b, what="the Update on bob's instance")

    await focus.get_by_label("More options").click()
    await focus.get_by_role("link", name="Delete").click()
    await page.wait_for_url(f"{a.base}/web/statuses/{sent.id}/delete")
    await expect(page.get_by_role("heading", name="Delete post?")).to_be_visible()
    await page.get_by_role("button", name="Delete", exact=True).click()
    await page.wait_for_url(f"{a.base}/")
    await expect(_post(page, "No typo in this post")).to_have_count(0)
    await expect(_post(page, "Hello from the browser")).to_have_count(1)

    async def deleted_on_b() -> bool:
        return await status_by_uri(b, sent.uri) is None

    await eventually(deleted_on_b, what="the Delete on bob's instance")
    assert await status_by_uri(a, sent.uri) is None

    # Unfollow from bob's profile: the button turns back to "Follow", and bob's instance forgets alice.
    await page.goto(f"{a.base}/{handle(b, 'bob')}")
    await page.get_by_role("button", name="Unfollow").click()
    await expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()

    async def unfollowed_on_b() -> bool:
        return await follow_state(b, alice.uri, bob.uri) is None

    await eventually(unfollowed_on_b, what="the Undo on bob's instance")


async def _is(value, expected) -> bool:
    return await value == expected


async def test_accept_and_reject_follow_requests_to_a_locked_account(
    start_spark, page, new_page, aiohttp_server
) -> None:
    a = await start_spark()
    b = await start_spark()
    alice = await user(a, "alice", display_name="Alice", locked=True)
    bob = await user(b, "bob", display_name="Bob")
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)

    # carol (on the Mastodon-shaped peer) and bob (in his browser, on the other Spark) ask to follow alice.
    assert (await peer.follow_remote("carol", alice.uri)).status == 202
    bobs_page = await new_page()
    await sign_in(bobs_page, b, "bob")
    alice_there = f"{b.base}/{handle(a, 'alice')}"
    await bobs_page.goto(alice_there)
    await expect(bobs_page.get_by_role("heading", level=1)).to_have_text("Alice")
    await expect(
        bobs_page.get_by_role("img", name="Locked account: follow requests are reviewed")
    ).to_be_visible()
    await bobs_page.get_by_role("button", name="Follow").click()
    await expect(bobs_page.get_by_role("button", name="Cancel request")).to_be_visible()  # no reload
    await bobs_page.reload()
    await expect(bobs_page.get_by_role("button", name="Cancel request")).to_be_visible()
    carol_uri = peer.actor_id("carol")
    await eventually(
        lambda: _is(follow_state(a, carol_uri, alice.uri), FollowState.PENDING), what="carol's Follow"
    )
    await eventually(
        lambda: _is(follow_state(a, bob.uri, alice.uri), FollowState.PENDING), what="bob's Follow"
    )
    assert peer.following_state("carol", alice.uri) == "pending"

    await sign_in(page, a, "alice")
    bell = page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications")
    await expect(bell.locator(".badge")).to_have_text("2")
    await bell.click()
    await page.wait_for_url(f"{a.base}/notifications")
    await expect(bell.locator(".badge")).to_have_count(0)  # opening the page reads them
    from_carol = page.get_by_role("article", name="carol asked to follow you")
    from_bob = page.get_by_role("article", name="Bob asked to follow you")
    await expect(from_carol).to_contain_text(f"@carol@{peer.domain}")
    await expect(from_bob).to_contain_text(handle(b, "bob"))

    await from_carol.get_by_role("button", name="Accept").click()
    await page.wait_for_url(f"{a.base}/notifications")
    await expect(from_carol.get_by_role("button", name="Accept")).to_have_count(0)
    await peer.wait_until(lambda: peer.following_state("carol", alice.uri) == "accepted")
    assert await follow_state(a, carol_uri, alice.uri) == FollowState.ACCEPTED

    await from_bob.get_by_role("button", name="Reject").click()
    await page.wait_for_url(f"{a.base}/notifications")
    await expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    await eventually(
        lambda: _is(follow_state(b, bob.uri, alice.uri), FollowState.REJECTED),
        what="the Reject on bob's instance",
    )
    await bobs_page.reload()
    await expect(bobs_page.get_by_role("button", name="Follow")).to_be_visible()

    # The profile counts the one accepted follower.
    await page.get_by_role("link", name="Profile").click()
    await expect(page.locator(".stats")).to_contain_text("1 Followers")


async def test_settings_sessions_and_sign_out(spark, new_page) -> None:
    await user(spark, "alice", display_name="Alice")
    laptop = await new_page()
    phone = await new_page(phone=True)
    await sign_in(laptop, spark, "alice")
    await sign_in(phone, spark, "alice")

    # Settings: the profile form saves, and both browsers are listed with a "Sign out" each.
    await laptop.get_by_role("link", name="Settings").click()
    await laptop.get_by_label("Display name").fill("Alice Liddell")
    await laptop.get_by_label("Bio").fill("Down the rabbit hole #wonderland")
    await laptop.get_by_label("Locked account (approve each follower)").check()
    await laptop.get_by_role("button", name="Save profile").click()
    await expect(laptop.get_by_role("status")).to_have_text("Profile saved.")
    await expect(laptop.get_by_label("Display name")).to_have_value("Alice Liddell")
    await expect(laptop.get_by_label("Locked account (approve each follower)")).to_be_checked()
    sessions = laptop.locator("ul.sessions > li")
    await expect(sessions).to_have_count(2)
    await expect(sessions.filter(has_text="This browser")).to_have_count(1)

    # Sign the other browser out from here: its next page is the signed-out one.
    other = sessions.filter(has_not_text="This browser")
    await other.get_by_role("button", name="Sign out").click()
    await expect(laptop.get_by_role("status")).to_have_text("That browser is signed out.")
    await expect(laptop.locator("ul.sessions > li")).to_have_count(1)
    await phone.goto(f"{spark.base}/settings")
    assert phone.url.startswith(f"{spark.base}/auth/sign_in?next="), phone.url

    # A wrong current password is refused; the right one changes it.
    await laptop.get_by_label("Current password").fill("not my password")
    await laptop.get_by_label("New password").fill("a much better password")
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.get_by_role("alert")).to_have_text("The current password is wrong.")
    await laptop.get_by_label("Current password").fill("password123")
    await laptop.get_by_label("New password").fill("a much better password")
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.get_by_role("status")).to_contain_text("Password changed")

    # Sign out: the page says so, and the old cookie opens nothing any more.
    [cookie] = [c for c in await laptop.context.cookies() if c["name"] == "spark_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    await laptop.get_by_role("button", name="Sign out", exact=True).click()
    await laptop.wait_for_url(f"{spark.base}/")
    await expect(laptop.get_by_role("link", name="Sign in").first).to_be_visible()
    assert [c for c in await laptop.context.cookies() if c["name"] == "spark_session"] == []
    timeout = aiohttp.ClientTimeout(total=10)
    old_cookie = {"spark_session": cookie["value"]}
    async with (
        aiohttp.ClientSession(timeout=timeout, cookies=old_cookie) as http,
        http.get(f"{spark.base}/settings", allow_redirects=False) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"].startswith("/auth/sign_in")

    # The old password no longer signs in; the new one does.
    await laptop.goto(f"{spark.base}/auth/sign_in")
    await laptop.get_by_label("Username").fill("alice")
    await laptop.get_by_label("Password").fill("password123")
    await laptop.get_by_role("button", name="Sign in").click()
    await expect(laptop.get_by_role("alert")).to_be_visible()
    await sign_in(laptop, spark, "alice", "a much better password")


async def test_home_pages_newest_first_and_profile_tabs_and_composer(spark, page) -> None:
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    await actions.follow(spark.ctx, alice, bob.uri)
    for n in range(1, 23):
        await posts.post(spark.ctx, bob, f"Numbered post {n}")
    question = await posts.post(spark.ctx, alice, "What are you reading?")
    await posts.post(spark.ctx, bob, "A book about fungi", reply_to=question.uri)
    await posts.post(spark.ctx, bob, "It ends well", cw="Book spoilers")

    await sign_in(page, spark, "alice")
    feed = page.get_by_role("region", name="Home timeline")
    articles = feed.locator("article.post")
    await expect(articles).to_have_count(20)
    times = [await t.get_attribute("datetime") for t in await articles.locator("header time").all()]
    assert times == sorted(times, reverse=True)
    await expect(articles.nth(0)).to_contain_text("Book spoilers")
    await expect(articles.nth(1)).to_contain_text("A book about fungi")
    await expect(articles.nth(2)).to_contain_text("What are you reading?")
    await expect(articles.nth(19)).to_contain_text("Numbered post 6")

    # The content warning hides the body until "Show more".
    warned = articles.nth(0).locator("details.cw")
    await expect(warned.locator(".content")).to_be_hidden()
    await warned.get_by_text("Show more").click()
    await expect(warned.locator(".content")).to_have_text("It ends well")

    # "Load more" continues where the page ended, and the last page has no link.
    await page.get_by_role("link", name="Load more").click()
    await expect(articles).to_have_count(5)
    await expect(articles.first).to_contain_text("Numbered post 5")
    await expect(articles.last).to_contain_text("Numbered post 1")
    await expect(page.get_by_role("link", name="Load more")).to_have_count(0)

    # Profile tabs: "Posts" leaves the reply out, "Posts and replies" has it.
    await page.goto(f"{spark.base}/@bob")
    await expect(page.get_by_role("link", name="Posts", exact=True)).to_have_attribute("aria-current", "page")
    await expect(page.locator("article.post").first).to_contain_text("Book spoilers")
    await expect(page.locator("article.post", has_text="A book about fungi")).to_have_count(0)
    await page.get_by_role("link", name="Posts and replies").click()
    await expect(page.get_by_role("link", name="Posts and replies")).to_have_attribute("aria-current", "page")
    reply = page.locator("article.post", has_text="A book about fungi")
    await expect(reply.locator(".context")).to_have_text("Replying to @alice")

    # The composer: the counter goes below zero past the limit, and a followers-only post says so.
    await page.goto(f"{spark.base}/")
    visibility = page.get_by_label("Visibility")
    options = [await o.get_attribute("value") for o in await visibility.locator("option").all()]
    assert options == ["public", "unlisted", "followers", "direct"]
    box = page.get_by_label("What's happening?")
    await box.fill("x" * 501)
    counter = page.locator("output.counter").first
    await expect(counter).to_have_text("-1")
    await expect(counter).to_have_class("counter over")
    await box.fill("Only for the people who follow me")
    await page.get_by_label("Content warning").fill("Small news")
    await visibility.select_option("followers")
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    mine = articles.first
    await expect(mine.locator(".visibility")).to_have_text("followers")
    await expect(mine.locator("details.cw summary")).to_contain_text("Small news")
    await expect(mine.locator(".actions .action", has_text="0").first).to_be_visible()
    await expect(mine.get_by_role("button", name="Repost")).to_have_count(0)  # followers-only: no repost


async def test_a_repost_of_a_post_already_in_home_shows_once(spark, page) -> None:
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    await actions.follow(spark.ctx, alice, bob.uri)
    original = await posts.post(spark.ctx, bob, "Worth reading twice, shown once")
    await interactions.boost(spark.ctx, alice, original.uri)
    carol = await user(spark, "carol", display_name="Carol")
    await actions.follow(spark.ctx, alice, carol.uri)
    await interactions.boost(spark.ctx, carol, original.uri)  # a second repost, by someone alice follows
    await sign_in(page, spark, "alice")
    await expect(_post(page, "Worth reading twice, shown once")).to_have_count(1, timeout=1000)
    shown = _post(page, "Worth reading twice, shown once")
    await expect(shown.get_by_role("button", name="Undo repost")).to_have_attribute("aria-pressed", "true")
    # A post that is not in the feed yet does come in as a repost, with who reposted it.
    dana = await user(spark, "dana", display_name="Dana")
    await interactions.boost(spark.ctx, carol, (await posts.post(spark.ctx, dana, "New to alice")).uri)
    await page.reload()
    await expect(page.locator("article.post").first.locator(".context")).to_have_text("Carol reposted")
