"""Link preview cards end to end: a post's first link, fetched in the background from a fake site.

The site (`tests/peers/pages.py`) is an independent loopback server with honest pages
(OpenGraph, Twitter card, oEmbed) and hostile ones. Spark runs with private addresses refused
and only the site's host allowed, as a real server would treat a link to its own network. Each
test waits for a condition with a deadline: the card on the API, or the card queue drained.
"""

import asyncio
import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from outbox import actions
from spark_fed.cards.links import first_link
from spark_fed.cards.page import read_head, read_oembed, read_page, video_html
from spark_fed.changes import Kind
from spark_fed.models import Follow, FollowState, PreviewCard, Status
from spark_fed.models.types import utcnow
from spark_fed.queue.cards import queued_count
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, eventually, free_port, test_config
from .peers import FakeMastodon
from .peers.pages import Forbidden, PageSite
from .test_mastodon_py_media import _sign_in, _with_password

# --- which link, and what a page says (no network) ----------------------------------------------


def test_the_first_link_skips_mentions_tags_quotes_local_links_and_attachments() -> None:
    html = (
        '<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@bob</a></span> '
        '<a href="https://m.example/tags/spark" class="mention hashtag" rel="tag">#spark</a> '
        '<a href="https://m.example/users/carol">carol</a> '
        '<span class="quote-inline">RE: <a href="https://q.example/post/1">quoted</a></span> '
        '<a href="https://spark.example/@alice/1">own server</a> '
        '<a href="https://files.example/cat.png">the image</a> '
        '<a href="mailto:x@y.example">mail</a> '
        '<a href="HTTPS://News.Example/Story?id=1#comments">story</a> '
        '<a href="https://later.example/">later</a></p>'
    )
    found = first_link(
        html,
        local_host="spark.example",
        mentioned={"https://m.example/users/carol"},
        attachments={"https://files.example/cat.png"},
    )
    assert found == "https://news.example/Story?id=1"
    assert first_link("<p>no links</p>", local_host="spark.example") is None
    assert first_link('<a href="javascript:alert(1)">x</a>', local_host="spark.example") is None


def test_pages_are_read_as_plain_text_and_web_urls_only() -> None:
    head = read_head(
        "<html><head><title>T</title>"
        "<meta property='og:title' content='<b>Bold</b> &amp; <script>x()</script>ok'>"
        "<meta property='og:image' content='data:image/png;base64,AAAA'>"
        "<meta name='twitter:player' content='http://insecure.example/player'>"
        "</head><body><meta property='og:description' content='from the body'></body></html>"
    )
    card = read_page("https://a.example/", head)
    assert card is not None
    assert (card.title, card.image, card.type, card.description) == ("Bold & ok", None, "link", "")
    assert read_page("https://a.example/", read_head("<html><head></head>")) is None
    # oEmbed: rich needs scripts and gives nothing; a video keeps only its https iframes.
    assert read_oembed("https://a.example/", "https://a.example/o", b'{"type": "rich", "title": "x"}') is None
    assert read_oembed("https://a.example/", "https://a.example/o", b"[1, 2") is None
    assert video_html('<iframe src="http://a.example/e"></iframe>') is None
    assert video_html('<iframe src="https://a.example/e" onload="x()"></iframe><script>y</script>') == (
        '<iframe src="https://a.example/e"></iframe>'
    )


# --- the running server ---------------------------------------------------------------------


async def _spark(start_spark, database_url, *hosts: str, request_timeout: float = 3.0) -> Spark:
    """An instance that refuses private addresses except the HOSTS given (host:port)."""
    port = free_port()
    config = test_config(await database_url(), port)
    federation = replace(
        config.federation,
        allow_private_addresses=False,
        allowed_hosts=(f"127.0.0.1:{port}", *hosts),
        request_timeout=request_timeout,
        first_byte_timeout=request_timeout,
    )
    return await start_spark(replace(config, federation=federation))


def _host(base: str) -> str:
    return base.removeprefix("http://")


async def _client(spark: Spark, aiohttp_client, name: str = "alice"):
    account = await spark.user(name)
    token = await create_token(spark.db, account, parse_scopes("read write"))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account


async def _post(client, text: str) -> dict[str, Any]:
    response = await client.post("/api/v1/statuses", json={"status": text})
    assert response.status == 200, await response.text()
    return await response.json()


async def _card(client, status_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/api/v1/statuses/{status_id}")
    assert response.status == 200
    return (await response.json())["card"]


async def _drained(spark: Spark) -> None:
    async def empty() -> bool:
        return await queued_count(spark.db) == 0

    await eventually(empty, timeout=20, what="the card queue to drain")


@pytest.fixture
async def site(aiohttp_server):
    forbidden = Forbidden()
    await forbidden.start(aiohttp_server)
    pages = PageSite(forbidden.base)
    await pages.start(aiohttp_server)
    pages.forbidden = forbidden
    return pages


async def test_an_opengraph_card_reaches_the_api_with_its_image_through_the_proxy(
    start_spark, database_url, aiohttp_client, site
) -> None:
    spark = await _spark(start_spark, database_url, _host(site.base))
    client, _ = await _client(spark, aiohttp_client)
    with spark.db.changes.subscribe({Kind.STATUSES}) as changes:
        status = await _post(client, f"Read this: {site.base}/og")
        assert status["card"] is None  # posting never waits for it
        card = await eventually(lambda: _card(client, status["id"]), what="the card")
        change = await asyncio.wait_for(changes.get(), 5)
    assert change.kind == Kind.STATUSES and change.ids == (int(status["id"]),)
    assert card["url"] == f"{site.base}/og"
    assert card["title"] == "Spark & the fediverse"
    assert card["description"] == "How a small server talks to big ones."
    assert card["provider_name"] == "The Example Times"
    assert card["type"] == "link" and card["html"] == ""
    assert card["author_name"] == "Ada Writer" and card["authors"][0]["name"] == "Ada Writer"
    assert card["image_description"] == "A blue square"
    assert card["published_at"] == "2026-11-30T08:00:00.000Z"
    assert (card["width"], card["height"]) == (1200, 630)
    assert card["image"].startswith(f"{spark.base}/media/")
    assert site.hits["/card.png"] == 0  # never hot-linked, fetched when first shown
    assert all(agent.startswith("Spark/") and agent.endswith(" Bot") for agent in site.user_agents)
    image = await client.get(card["image"].removeprefix(spark.base))
    assert image.status == 200 and image.content_type == "image/png"
    assert site.hits["/card.png"] == 1
    # Now the image is Spark's own, its real size and blurhash are served.
    card = await _card(client, status["id"])
    assert (card["width"], card["height"]) == (120, 63) and card["blurhash"]
    # The timeline carries it too, and a second post linking the page reuses the card.
    again = await _post(client, f"Again {site.base}/og")
    assert (await eventually(lambda: _card(client, again["id"]), what="the cached card"))["title"]
    assert site.hits["/og"] == 1
    timeline = await (await client.get("/api/v1/timelines/home")).json()
    assert [s["card"]["title"] for s in timeline] == ["Spark & the fediverse"] * 2


async def test_twitter_tags_and_oembed_give_their_cards(
    start_spark, database_url, aiohttp_client, site
) -> None:
    spark = await _spark(start_spark, database_url, _host(site.base))
    client, _ = await _client(spark, aiohttp_client)
    twitter = await _post(client, f"{site.base}/twitter")
    video = await _post(client, f"{site.base}/video")
    rich = await _post(client, f"{site.base}/rich")
    card = await eventually(lambda: _card(client, twitter["id"]), what="the Twitter card")
    assert (card["title"], card["description"]) == ("Only Twitter tags", "Described for Twitter.")
    assert card["image"].startswith(f"{spark.base}/media/")
    card = await eventually(lambda: _card(client, video["id"]), what="the oEmbed card")
    assert (card["type"], card["title"], card["provider_name"]) == ("video", "A cat video", "ExampleTube")
    assert card["author_url"] == f"{site.base}/@cats" and card["provider_url"] == f"{site.base}/"
    assert card["html"] == '<iframe src="https://tube.example/embed/1" width="640" height="360"></iframe>'
    assert (card["width"], card["height"]) == (640, 360)
    card = await eventually(lambda: _card(client, rich["id"]), what="the page's own card")
    assert (card["type"], card["title"], card["html"]) == ("link", "Rich fallback", "")


async def test_hostile_pages_yield_no_card_and_no_error(
    start_spark, database_url, aiohttp_client, site, caplog
) -> None:
    caplog.set_level(logging.INFO)
    spark = await _spark(start_spark, database_url, _host(site.base), request_timeout=2.0)
    client, _ = await _client(spark, aiohttp_client)
    hostile = ["slow", "trickle", "huge", "loop", "to-private", "image", "json", "malformed", "script", "404"]
    started = time.monotonic()
    posted = {name: await _post(client, f"look {site.base}/{name}") for name in hostile}
    assert time.monotonic() - started < 5  # ten posts, none waiting on its link
    script_image = await _post(client, f"and {site.base}/script-image")
    await _drained(spark)
    for name, status in posted.items():
        assert await _card(client, status["id"]) is None, name
    async with spark.db.read() as session:
        assert len((await session.exec(select(PreviewCard))).all()) == 1  # script-image's, below
    card = await _card(client, script_image["id"])
    assert card["title"] == "Fine title bold" and card["description"] == "Plain words"
    assert card["image"] is None
    assert site.forbidden.hits == 0
    assert site.sent["/huge"] < 8 * 1024 * 1024  # the connection was dropped after about a megabyte
    assert 1 <= site.hits["/loop"] <= 4
    card_path = ("spark_fed.cards", "spark_fed.queue", "spark_fed.http")
    problems = [
        r
        for r in caplog.records
        if r.name.startswith("spark_fed")
        and (r.levelno >= logging.ERROR or (r.levelno >= logging.WARNING and r.name.startswith(card_path)))
    ]
    assert not problems, [r.getMessage() for r in problems]


async def test_an_edit_that_drops_the_link_drops_the_card(
    start_spark, database_url, aiohttp_client, site
) -> None:
    spark = await _spark(start_spark, database_url, _host(site.base))
    client, _ = await _client(spark, aiohttp_client)
    status = await _post(client, f"{site.base}/og")
    await eventually(lambda: _card(client, status["id"]), what="the card")
    response = await client.put(f"/api/v1/statuses/{status['id']}", json={"status": "no link now"})
    assert response.status == 200

    async def gone() -> bool:
        return await _card(client, status["id"]) is None

    await eventually(gone, what="the card to go")
    response = await client.put(f"/api/v1/statuses/{status['id']}", json={"status": f"{site.base}/twitter"})
    card = await eventually(lambda: _card(client, status["id"]), what="the new link's card")
    assert card["title"] == "Only Twitter tags"


async def test_mastodon_py_reads_the_card(start_spark, database_url, site) -> None:
    spark = await _spark(start_spark, database_url, _host(site.base))
    await _with_password(spark, "alice")
    api = await asyncio.to_thread(_sign_in, spark.base, "alice")
    posted = await asyncio.to_thread(api.status_post, f"A page: {site.base}/og")

    async def card() -> Any:
        return (await asyncio.to_thread(api.status, posted["id"])).card

    found = await eventually(card, what="Mastodon.py to see the card")
    assert found.title == "Spark & the fediverse" and found.provider_name == "The Example Times"


async def test_a_remote_note_gets_a_card_and_one_with_media_gets_none(
    start_spark, database_url, aiohttp_server, site
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    spark = await _spark(start_spark, database_url, _host(site.base), peer.domain)
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")

    async def accepted() -> bool:
        async with spark.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="the follow to be accepted")
    plain = peer.create_note("bob", content=f'<p>see <a href="{site.base}/og">the page</a></p>')
    with_media = peer.create_note("bob", content=f'<p>photo <a href="{site.base}/twitter">page</a></p>')
    with_media["object"]["attachment"] = [
        {"type": "Document", "mediaType": "image/png", "url": f"{site.base}/card.png", "name": "blue"}
    ]
    for create in (plain, with_media):
        assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202

    async def stored() -> list[Status]:
        async with spark.db.read() as session:
            return list((await session.exec(select(Status).order_by(Status.id))).all())

    await eventually(lambda: _count(stored, 2), what="both notes")
    await _drained(spark)
    token = await create_token(spark.db, alice, parse_scopes("read"))
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        cards = {}
        for status in await stored():
            async with http.get(f"{spark.base}/api/v1/statuses/{status.id}") as response:
                cards[status.uri] = (await response.json())["card"]
    assert cards[plain["object"]["id"]]["title"] == "Spark & the fediverse"
    assert cards[with_media["object"]["id"]] is None
    assert site.hits["/twitter"] == 0


async def _count(load, wanted: int) -> bool:
    return len(await load()) >= wanted


async def test_a_card_older_than_two_weeks_is_fetched_again(
    start_spark, database_url, aiohttp_client, site
) -> None:
    spark = await _spark(start_spark, database_url, _host(site.base))
    client, _ = await _client(spark, aiohttp_client)
    first = await _post(client, f"{site.base}/og")
    card = await eventually(lambda: _card(client, first["id"]), what="the card")
    async with spark.db.write() as session:
        stored = (await session.exec(select(PreviewCard))).one()
        stored.fetched_at = utcnow() - timedelta(days=15)
        stored.image_description = "stale"
        session.add(stored)
    again = await _post(client, f"Again: {site.base}/og")

    async def refreshed() -> dict[str, Any] | None:
        found = await _card(client, again["id"])
        return found if found and found["image_description"] == "A blue square" else None

    await eventually(refreshed, what="the refreshed card")
    assert site.hits["/og"] == 2
    assert (await _card(client, first["id"]))["image"] == card["image"]  # the same image row, kept


async def test_one_host_gets_at_most_two_fetches_at_once(
    start_spark, database_url, aiohttp_client, aiohttp_server
) -> None:
    slow = PageSite(delay=0.3)
    await slow.start(aiohttp_server)
    spark = await _spark(start_spark, database_url, _host(slow.base))
    client, _ = await _client(spark, aiohttp_client)
    posted = [await _post(client, f"page {n}: {slow.base}/many/{n}") for n in range(8)]
    await _drained(spark)
    titles = {(await _card(client, status["id"]))["title"] for status in posted}
    assert titles == {f"Page many/{n}" for n in range(8)}
    assert 1 <= slow.most_in_flight <= 2  # eight jobs claimed together, two at the site at a time
