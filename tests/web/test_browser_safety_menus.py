"""Safety in the browser: "Mute", "Block" and "Report" from a post's "More options" menu, the
settings pages that undo them, muted words on the home page, and the moderation page.

Each test drives Chromium through the pages only (labels, button names, links) and checks the
result on the pages and, where it matters, in the instance's database. The new pages pass axe,
fit a 375 px phone without sideways scrolling and are photographed under build/screenshots/.
"""

from __future__ import annotations

from dataclasses import replace

from playwright.async_api import expect
from sqlmodel import select

from outbox import actions, posts
from spark_fed.models import Report, User
from tests.conftest import Spark, eventually, free_port, test_config
from tests.peers import FakeMastodon

from .support import follow_state, sign_in, user

RULES = ("Be kind: no harassment or hate.", "No spam or advertising.", "Mark sensitive media.")


def _post(page, text: str):
    """The <article> of the post whose content has TEXT."""
    return page.locator("article.post").filter(has=page.locator(".content", has_text=text))


async def _open_menu(post) -> None:
    """Open the post's "More options" menu (a <details>: it opens without JavaScript too)."""
    await post.get_by_label("More options").click()
    await expect(post.locator("details.menu")).to_have_attribute("open", "")


async def _check_page(page, phone, axe, screenshot, name: str) -> None:
    """PAGE's current URL passes axe on the desktop and on a phone, where it does not scroll
    sideways; both are photographed as NAME-desktop and NAME-phone."""
    assert await axe(page) == [], f"{name} (desktop)"
    await screenshot(page, f"{name}-desktop")
    response = await phone.goto(page.url)
    assert response is not None and response.ok, f"{name}: {response and response.status}"
    assert await axe(phone) == [], f"{name} (phone)"
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{name} scrolls sideways at 375 px: scrollWidth {width}"
    await screenshot(phone, f"{name}-phone")


async def _set_role(spark: Spark, account_id: int, role: str) -> None:
    async with spark.db.write() as session:
        row = await session.get(User, account_id)
        assert row is not None
        row.role = role
        session.add(row)


async def _reports(spark: Spark) -> list[Report]:
    async with spark.db.read() as session:
        return list((await session.exec(select(Report).order_by(Report.id))).all())


async def _ruled_spark(start_spark, database_url) -> Spark:
    config = test_config(await database_url(), free_port())
    return await start_spark(replace(config, instance=replace(config.instance, rules=RULES)))


async def test_mute_report_and_block_from_a_posts_menu_then_a_moderator_resolves_it(
    start_spark, database_url, page, new_page, axe, screenshot
) -> None:
    spark = await _ruled_spark(start_spark, database_url)
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    carol = await user(spark, "carol", display_name="Carol")
    maria = await user(spark, "maria", display_name="Maria (moderator)")
    await _set_role(spark, maria.id, "admin")
    for followee in (bob, carol):
        await actions.follow(spark.ctx, alice, followee.uri)
    await posts.post(spark.ctx, bob, "Bob's older post about bread")
    spam = await posts.post(spark.ctx, bob, "Buy cheap watches at my shop!!!")
    await posts.post(spark.ctx, carol, "Carol talks about the weather again")
    await posts.post(spark.ctx, alice, "Alice's own post")
    phone = await new_page(phone=True)
    await sign_in(page, spark, "alice")
    await sign_in(phone, spark, "alice")

    # The menu: a "More options" button on others' posts, with three entries (her own posts' menu
    # pins, edits and deletes instead).
    feed = page.get_by_role("region", name="Home timeline")
    own = _post(page, "Alice's own post")
    await _open_menu(own)
    await expect(own.get_by_role("link", name="Report")).to_have_count(0)
    await expect(own.get_by_role("button", name="Pin to profile")).to_be_visible()
    await page.keyboard.press("Escape")
    weather = _post(page, "Carol talks about the weather")
    await _open_menu(weather)
    for entry in ("Mute @carol", "Block @carol", "Report"):
        await expect(weather.get_by_role("link", name=entry, exact=True)).to_be_visible()
    assert await axe(page) == [], "home with a menu open"
    await screenshot(page, "safety-menu-open-desktop", full_page=False)
    await page.keyboard.press("Escape")
    await expect(weather.locator("details.menu")).not_to_have_attribute("open", "")

    # Mute carol (a confirmation, with how long and whether notifications go too): her posts go.
    await _open_menu(weather)
    await weather.get_by_role("link", name="Mute @carol").click()
    await expect(page.get_by_role("heading", name="Mute @carol?")).to_be_visible()
    await expect(page.get_by_label("Hide their notifications too")).to_be_checked()
    await _check_page(page, phone, axe, screenshot, "safety-mute")
    await page.get_by_label("Duration").select_option(label="7 days")
    await page.get_by_role("button", name="Mute", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    await expect(_post(page, "Carol talks about the weather")).to_have_count(0)
    await expect(_post(page, "Buy cheap watches")).to_have_count(1)

    # Report bob from his post: the post it came from is pre-checked, the rules show for "Breaks a rule".
    watches = _post(page, "Buy cheap watches")
    await _open_menu(watches)
    await watches.get_by_role("link", name="Report").click()
    await expect(page.get_by_role("heading", name="Report @bob")).to_be_visible()
    await expect(page.get_by_label("Buy cheap watches at my shop!!!")).to_be_checked()
    await expect(page.get_by_label("Bob's older post about bread")).not_to_be_checked()
    await expect(page.get_by_label(RULES[1])).to_be_hidden()
    await page.get_by_label("Breaks a rule").check()
    await expect(page.get_by_label(RULES[1])).to_be_visible()
    await expect(page.get_by_text("Forward to")).to_have_count(0)  # bob is local
    await _check_page(page, phone, axe, screenshot, "safety-report")
    await page.get_by_label(RULES[1]).check()
    await page.get_by_label("Anything else the moderators should know?").fill("He posts this every hour.")
    await page.get_by_role("button", name="Send report").click()
    await expect(page.get_by_role("status")).to_contain_text("will look at your report about @bob")
    [stored] = await _reports(spark)
    assert (stored.account_id, stored.target_account_id) == (alice.id, bob.id)
    assert (stored.category, stored.rule_ids, stored.status_ids) == ("violation", "2", str(spam.id))
    assert stored.comment == "He posts this every hour."
    await _check_page(page, phone, axe, screenshot, "safety-reported")

    # Block bob, from the report's thank-you page's offer or the menu alike: here the menu.
    await page.goto(f"{spark.base}/")
    watches = _post(page, "Buy cheap watches")
    await _open_menu(watches)
    await watches.get_by_role("link", name="Block @bob").click()
    await expect(page.get_by_role("heading", name="Block @bob?")).to_be_visible()
    await _check_page(page, phone, axe, screenshot, "safety-block")
    await page.get_by_role("button", name="Block", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    await expect(feed.locator("article.post")).to_have_count(1)
    await expect(_post(page, "Alice's own post")).to_have_count(1)
    assert await follow_state(spark, alice.uri, bob.uri) is None  # the follow ended with the block

    # His profile says so and offers "Unblock"; the menu there has the undo too.
    await page.goto(f"{spark.base}/@bob")
    await expect(page.get_by_role("button", name="Unblock", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Follow", exact=True)).to_have_count(0)
    await expect(page.get_by_text("You block this account.")).to_be_visible()
    await _check_page(page, phone, axe, screenshot, "safety-blocked-profile")

    # Settings lists both, each with its undo.
    await page.goto(f"{spark.base}/settings")
    await page.get_by_role("link", name="Blocked accounts").click()
    await expect(page.get_by_role("region", name="Blocked accounts")).to_contain_text("@bob")
    await _check_page(page, phone, axe, screenshot, "safety-settings-blocks")
    await page.get_by_role("link", name="Muted accounts").click()
    muted = page.get_by_role("region", name="Muted accounts")
    await expect(muted).to_contain_text("@carol")
    await expect(muted).to_contain_text("Notifications hidden too · until")
    await _check_page(page, phone, axe, screenshot, "safety-settings-mutes")
    await muted.get_by_role("button", name="Unmute @carol").click()
    await expect(muted).to_contain_text("You haven't muted anyone")
    await page.goto(f"{spark.base}/")
    await expect(_post(page, "Carol talks about the weather")).to_have_count(1)

    # alice is no moderator: the moderation pages do not exist for her, nor the link.
    await expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation")
    ).to_have_count(0)
    response = await page.goto(f"{spark.base}/admin/reports")
    assert response is not None and response.status == 404
    response = await page.goto(f"{spark.base}/admin/reports/{stored.id}")
    assert response is not None and response.status == 404

    # The admin sees the report: who, whom, why, the post; resolves it with a note.
    admin = await new_page()
    admin_phone = await new_page(phone=True)
    await sign_in(admin, spark, "maria")
    await sign_in(admin_phone, spark, "maria")
    await admin.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation").click()
    await admin.wait_for_url(f"{spark.base}/admin/reports")
    card = admin.get_by_role("article", name=f"Report {stored.id}: @bob")
    for text in ("@alice", "Breaks a rule", RULES[1], "He posts this every hour.", "Buy cheap watches"):
        await expect(card).to_contain_text(text)
    await _check_page(admin, admin_phone, axe, screenshot, "moderation-reports")
    await card.get_by_role("link", name=f"Report {stored.id}: @bob").click()
    await admin.wait_for_url(f"{spark.base}/admin/reports/{stored.id}")
    await expect(admin.get_by_role("button", name="Silence")).to_be_visible()
    await expect(admin.get_by_role("button", name="Suspend")).to_be_visible()
    await _check_page(admin, admin_phone, axe, screenshot, "moderation-report")

    # Silence bob from the report (logged with the reason), then resolve it.
    await admin.get_by_label("Reason").fill("Spam, first warning")
    await admin.get_by_role("button", name="Silence").click()
    await expect(admin.get_by_role("status")).to_have_text("The account is limited.")
    await expect(admin.get_by_role("button", name="Lift limit")).to_be_visible()
    log = admin.get_by_role("region", name="Log for @bob")
    await expect(log).to_contain_text("@maria limited @bob")
    await expect(log).to_contain_text("Spam, first warning")
    async with spark.db.read() as session:
        assert (await session.get(type(bob), bob.id)).silenced_at is not None
    await admin.get_by_label("Note").fill("Silenced; watch for more.")
    await admin.get_by_role("button", name="Resolve").click()
    await admin.wait_for_url(f"{spark.base}/admin/reports?done=resolved")
    await expect(admin.get_by_role("status")).to_have_text("Report resolved.")
    await expect(admin.get_by_role("region", name="Open reports")).to_contain_text("No open reports")
    await expect(admin.get_by_role("region", name="Recent actions")).to_contain_text(
        "resolved a report about @bob"
    )
    await admin.get_by_role("link", name="Resolved").click()
    await expect(admin.get_by_role("article", name=f"Report {stored.id}: @bob")).to_be_visible()
    [resolved] = await _reports(spark)
    assert resolved.resolved_at is not None and resolved.resolution == "Silenced; watch for more."
    assert resolved.resolved_by_id == maria.id


async def test_muted_words_hide_and_warn_in_home_in_the_chosen_contexts_only(
    spark, page, new_page, axe, screenshot
) -> None:
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    await actions.follow(spark.ctx, alice, bob.uri)
    await posts.post(spark.ctx, bob, "That finale! I cannot believe the ending")
    await posts.post(spark.ctx, bob, "Crypto is the future, trust me")
    await posts.post(spark.ctx, bob, "Cryptography talk tonight at the library")  # not the whole word
    await posts.post(spark.ctx, bob, "Just a normal day")
    phone = await new_page(phone=True)
    await sign_in(page, spark, "alice")
    await sign_in(phone, spark, "alice")

    # "finale": warn, in the default contexts (home, explore and tags, conversations).
    await page.goto(f"{spark.base}/settings")
    await page.get_by_role("link", name="Muted words").click()
    await page.wait_for_url(f"{spark.base}/settings/filters")
    await _check_page(page, phone, axe, screenshot, "safety-settings-filters-empty")
    await page.get_by_label("Title").fill("TV spoilers")
    await page.get_by_label("Word or phrase 1").fill("finale")
    await page.get_by_role("button", name="Save muted words").click()
    await expect(page.get_by_role("status")).to_have_text("Muted word saved.")

    # "crypto": hide, whole word, on home only.
    await page.get_by_label("Word or phrase 1").fill("crypto")
    for context in ("Explore and tags", "Conversations"):
        await page.get_by_label(context).uncheck()
    await page.get_by_label("Hide it completely").check()
    await page.get_by_role("button", name="Save muted words").click()
    listed = page.get_by_role("region", name="Your muted words")
    await expect(listed.get_by_role("article")).to_have_count(2)
    await expect(listed.get_by_role("article", name="TV spoilers")).to_contain_text(
        "Shown collapsed in Home timeline, Explore and tags, Conversations"
    )
    await expect(listed.get_by_role("article", name="crypto")).to_contain_text("Hidden in Home timeline")
    await _check_page(page, phone, axe, screenshot, "safety-settings-filters")

    # Home: the crypto post is gone, "Cryptography" stays, the finale waits behind its warning.
    await page.goto(f"{spark.base}/")
    await expect(_post(page, "Crypto is the future")).to_have_count(0)
    await expect(_post(page, "Cryptography talk tonight")).to_have_count(1)
    await expect(_post(page, "Just a normal day")).to_have_count(1)
    warned = page.locator("article.post.filtered")
    await expect(warned).to_have_count(1)
    await expect(warned.locator("details.filtered-post > summary")).to_contain_text("Filtered: TV spoilers")
    await expect(warned.locator(".content")).to_be_hidden()
    assert await axe(page) == [], "home with a filtered post"
    await screenshot(page, "safety-home-filtered-desktop")
    await warned.get_by_text("Show", exact=True).click()
    await expect(warned.locator(".content")).to_have_text("That finale! I cannot believe the ending")
    await screenshot(page, "safety-home-filtered-open-desktop")
    await phone.goto(f"{spark.base}/")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 375
    await screenshot(phone, "safety-home-filtered-phone")

    # Explore: "crypto" is for home only, so its post is there; the finale is collapsed there too.
    await page.goto(f"{spark.base}/explore")
    await expect(_post(page, "Crypto is the future")).to_have_count(1)
    await expect(page.locator("article.post.filtered")).to_have_count(1)
    # bob's profile ("account" context): neither applies.
    await page.goto(f"{spark.base}/@bob")
    await expect(page.locator("article.post.filtered")).to_have_count(0)
    await expect(page.locator("article.post")).to_have_count(4)

    # Deleting a muted word brings its posts back.
    await page.goto(f"{spark.base}/settings/filters")
    await page.get_by_role("button", name="Delete crypto").click()
    await expect(page.get_by_role("status")).to_have_text("Muted word deleted.")
    await expect(page.get_by_role("region", name="Your muted words").get_by_role("article")).to_have_count(1)
    await page.goto(f"{spark.base}/")
    await expect(_post(page, "Crypto is the future")).to_have_count(1)


async def test_a_remote_account_offers_forwarding_and_blocking_its_server(
    spark, page, new_page, aiohttp_server, axe, screenshot
) -> None:
    peer = FakeMastodon("dana")
    await peer.start(aiohttp_server)
    alice = await user(spark, "alice", display_name="Alice")
    await actions.follow(spark.ctx, alice, f"dana@{peer.domain}")
    await eventually(
        lambda: _equals(follow_state(spark, alice.uri, peer.actor_id("dana")), "accepted"), what="the Accept"
    )
    phone = await new_page(phone=True)
    await sign_in(page, spark, "alice")
    await sign_in(phone, spark, "alice")

    # The remote profile's menu: mute, block, report, and block the whole server.
    await page.goto(f"{spark.base}/@dana@{peer.domain}")
    profile_menu = page.locator(".profile-actions details.menu")
    await profile_menu.get_by_label("More options").click()
    await expect(profile_menu.get_by_role("link", name=f"Mute @dana@{peer.domain}")).to_be_visible()
    await expect(profile_menu.get_by_role("button", name=f"Block domain {peer.domain}")).to_be_visible()
    assert await axe(page) == [], "remote profile with its menu open"
    await screenshot(page, "safety-remote-profile-menu-desktop", full_page=False)

    # Report, forwarded: the peer gets a Flag from the instance actor (not from alice).
    await profile_menu.get_by_role("link", name="Report").click()
    await page.get_by_label("Spam").check()
    await page.get_by_label(f"Forward to {peer.domain}").check()
    await _check_page(page, phone, axe, screenshot, "safety-report-remote")
    await page.get_by_role("button", name="Send report").click()
    await expect(page.get_by_role("status")).to_contain_text(f"a copy went to {peer.domain}")
    [stored] = await _reports(spark)
    assert stored.forwarded and stored.category == "spam"
    await peer.wait_until(lambda: bool(peer.received("Flag")), timeout=10, what="the Flag")
    [flag] = peer.received("Flag")
    assert flag["actor"] != alice.uri and peer.actor_id("dana") in flag["object"]

    # Block the server from the menu: it is listed in settings, with "Unblock domain".
    await page.goto(f"{spark.base}/@dana@{peer.domain}")
    await profile_menu.get_by_label("More options").click()
    await profile_menu.get_by_role("button", name=f"Block domain {peer.domain}").click()
    await expect(page.get_by_text(f"You block its server, {peer.domain}.")).to_be_visible()
    await page.goto(f"{spark.base}/settings/domains")
    servers = page.get_by_role("region", name="Blocked servers")
    await expect(servers).to_contain_text(peer.domain)
    await _check_page(page, phone, axe, screenshot, "safety-settings-domains")
    await servers.get_by_role("button", name=f"Unblock domain {peer.domain}").click()
    await expect(servers).to_contain_text("You haven't blocked any server.")
    # And a domain typed into the form.
    await page.get_by_role("textbox", name="Server").fill("spam.example")
    await page.get_by_role("button", name="Block server").click()
    await expect(servers).to_contain_text("spam.example")


async def _equals(value, expected) -> bool:
    return await value == expected
