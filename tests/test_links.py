"""No link with a scheme but http, https or mailto, whatever a status's origin.

A remote note and its Update (signed POSTs from the Mastodon-shaped peer), a Twitter archive (an
`expanded_url`), a Mastodon archive (its content and `inReplyTo`), a local post and its edit, and a
profile: each carries `javascript:`, `data:` and `vbscript:` in the spellings browsers forgive
(mixed case, character references, tabs, newlines, leading spaces, NUL). Checked in the stored row,
the client API's `content`, the web page and, for local statuses, the AS2 Note served at its id.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
from sqlmodel import col, select

from outbox import actions, posts
from outbox.imports import import_archive
from spark_fed.models import Account, Status
from web.names import thread_path

from .archives import mastodon_zip, tweet, twitter_zip
from .conftest import Spark, eventually
from .peers import FakeMastodon

# As they stand in an HTML attribute; `&#9;` is a tab, `&colon;` a colon.
HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "&#106;avascript:alert(3)",
    "&#x6A;avascript&colon;alert(4)",
    "java&#9;script:alert(5)",
    "java\nscript:alert(6)",
    "  javascript:alert(7)",
    "\x01javascript:alert(8)",
    "java\x00script:alert(12)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg5KTwvc2NyaXB0Pg==",
    "vbscript:msgbox(10)",
    "VBScript&#58;msgbox(11)",
)
# The same as the text of a URL field: what an archive's JSON holds, decoded.
HOSTILE_URLS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "java\tscript:alert(5)",
    " javascript:alert(7)",
    "data:text/html,<script>alert(9)</script>",
    "vbscript:msgbox(10)",
)
SAFE = "https://ok.example/page"
_WEB = ("http:", "https:", "mailto:")


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, name, value or "") for name, value in attrs]


def assert_only_web_links(html: str) -> None:
    """Every attribute, decoded as a browser decodes it and squeezed of the characters a browser
    skips in a URL, names no other scheme; every link is http(s) or mailto."""
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    for tag, name, value in parser.found:
        squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
        assert not squeezed.startswith(("javascript:", "vbscript:", "data:")), (tag, name, value)
        if name in ("href", "src", "action", "formaction"):
            assert squeezed.startswith((*_WEB, "/", "#", "?")), (tag, name, value)


def assert_kept_safe_link(html: str) -> None:
    """The check above found something to check: the well-formed link came through."""
    assert f'href="{SAFE}"' in html


def hostile_html(spellings: tuple[str, ...] = HOSTILE) -> str:
    links = " ".join(f'<a href="{href}">link {n}</a>' for n, href in enumerate(spellings))
    return f'<p>{links} <a href="{SAFE}">fine</a></p>'


# A JSON body holding a NUL is refused whole at the inbox (PostgreSQL cannot store one), so the
# remote spellings are the others; `test_a_remote_note_with_a_nul_is_refused_whole` covers NUL.
OVER_THE_WIRE = tuple(href for href in HOSTILE if "\x00" not in href)


async def _served(spark: Spark, status: Status, author: Account) -> list[str]:
    """The status's HTML as the client API and the web page serve it (and the AS2 Note, if local)."""
    served = []
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{spark.base}/api/v1/statuses/{status.id}") as resp:
            assert resp.status == 200
            served.append((await resp.json())["content"])
        async with client.get(f"{spark.base}{thread_path(author, status.id)}") as resp:
            assert resp.status == 200
            served.append(await resp.text())
        if status.local:
            async with client.get(status.uri, headers={"Accept": "application/activity+json"}) as resp:
                assert resp.status == 200
                note = await resp.json(content_type=None)
                served += [note["content"], *note.get("contentMap", {}).values()]
    return served


async def _stored(spark: Spark, status_id: int) -> Status:
    async with spark.db.read() as session:
        return await session.get(Status, status_id)


async def test_a_remote_note_and_its_update(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    create = peer.create_note("bob", content=hostile_html(OVER_THE_WIRE), mentions=[alice.uri])
    assert (await peer.send(create, f"{spark.base}/users/alice/inbox", "bob")).status == 202

    async def stored() -> Status | None:
        async with spark.db.read() as session:
            return (await session.exec(select(Status).where(Status.uri == create["object"]["id"]))).first()

    status = await eventually(stored, what="the note to be stored")
    bob = await spark.ctx.actors.get(peer.actor_id("bob"))
    assert_kept_safe_link(status.content)
    for html in [status.content, *await _served(spark, status, bob)]:
        assert_only_web_links(html)

    note = {
        **create["object"],
        "content": hostile_html(OVER_THE_WIRE).replace("fine", "edited"),
        "updated": _later(),
    }
    update = {"id": f"{note['id']}#updates/1", "type": "Update", "actor": bob.uri, "object": note}
    update["@context"] = create["@context"]
    assert (await peer.send(update, f"{spark.base}/users/alice/inbox", "bob")).status == 202

    async def edited() -> Status | None:
        row = await _stored(spark, status.id)
        return row if "edited" in row.content else None

    status = await eventually(edited, what="the Update to be applied")
    assert_kept_safe_link(status.content)
    for html in [status.content, *await _served(spark, status, bob)]:
        assert_only_web_links(html)


async def test_a_remote_note_with_a_nul_is_refused_whole(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    create = peer.create_note("bob", content=hostile_html(), mentions=[alice.uri])
    assert (await peer.send(create, f"{spark.base}/users/alice/inbox", "bob")).status == 400
    async with spark.db.read() as session:
        assert (
            await session.exec(select(Status).where(Status.uri == create["object"]["id"]))
        ).first() is None


def _later() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")


async def test_a_twitter_archive(spark: Spark, tmp_path: Path) -> None:
    alice = await spark.user("alice")
    tweets = [
        tweet(
            str(2000 + n),
            f"see https://t.co/h{n} now",
            f"Mon Jan 0{1 + n % 9} 10:00:00 +0000 2018",
            urls=[{"url": f"https://t.co/h{n}", "expanded_url": url, "indices": ["4", "20"]}],
        )
        for n, url in enumerate([*HOSTILE_URLS, SAFE])
    ]
    summary = await import_archive(spark.ctx, alice, "twitter", twitter_zip(tmp_path / "t.zip", [tweets]))
    assert summary.imported == len(tweets), summary.errors
    await _check_local_statuses(spark, alice)


async def test_a_mastodon_archive(spark: Spark, tmp_path: Path) -> None:
    alice = await spark.user("alice")
    extra = [{"content": hostile_html()}]
    extra += [{"content": "<p>a reply</p>", "inReplyTo": url} for url in HOSTILE_URLS]
    archive = mastodon_zip(tmp_path / "m.zip", extra=extra)
    summary = await import_archive(spark.ctx, alice, "mastodon", archive)
    assert summary.imported == 5 + len(extra), summary.errors
    await _check_local_statuses(spark, alice)
    async with spark.db.read() as session:
        query = select(Status).where(col(Status.content).contains("a reply</p>"))
        replies = (await session.exec(query)).all()
    assert len(replies) == len(HOSTILE_URLS)
    assert all(reply.in_reply_to_uri is None for reply in replies)  # not a web address: not kept


async def test_a_local_post_its_edit_and_a_bio(spark: Spark, aiohttp_server) -> None:
    alice = await spark.user("alice")
    typed = " ".join([*HOSTILE_URLS, '<a href="javascript:alert(1)">x</a>', "[x](javascript:alert(2))", SAFE])
    status = await posts.post(spark.ctx, alice, typed)
    await posts.edit(spark.ctx, alice, status.uri, typed + " edited")
    await actions.update_profile(spark.ctx, alice, bio=typed)
    await _check_local_statuses(spark, alice)
    async with aiohttp.ClientSession() as client:
        async with client.get(alice.uri, headers={"Accept": "application/activity+json"}) as resp:
            person = await resp.json(content_type=None)
        async with client.get(f"{spark.base}/@alice") as resp:
            page = await resp.text()
        async with client.get(f"{spark.base}/api/v1/accounts/{alice.id}") as resp:
            note = (await resp.json())["note"]
    for html in (person["summary"], page, note):
        assert_only_web_links(html)


async def test_a_remote_profile(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    peer.accounts["bob"].summary = hostile_html()
    await peer.start(aiohttp_server)
    bob = await spark.ctx.actors.get(peer.actor_id("bob"))
    assert_kept_safe_link(bob.summary)
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{spark.base}/api/v1/accounts/{bob.id}") as resp:
            note = (await resp.json())["note"]
        async with client.get(f"{spark.base}/@bob@{peer.domain}") as resp:
            page = await resp.text()
    for html in (bob.summary, note, page):
        assert_only_web_links(html)


async def _check_local_statuses(spark: Spark, author: Account) -> None:
    async with spark.db.read() as session:
        statuses = (await session.exec(select(Status).where(Status.account_id == author.id))).all()
    assert statuses
    assert any(f'href="{SAFE}"' in status.content for status in statuses)
    for status in statuses:
        assert_only_web_links(status.content)
        if status.visibility in ("public", "unlisted"):  # the others are not served to a visitor
            for html in await _served(spark, status, author):
                assert_only_web_links(html)
