"""Pages that reach out to other servers: a remote profile's first view, a thread's missing top."""

import re

from aiohttp.test_utils import TestClient

from spark_fed.federation.notes import MAX_PARENT_DEPTH
from spark_fed.passwords import hash_password

from .conftest import CHEAP_PASSWORDS, Spark
from .peers import FakeMastodon

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}


async def signed_in(spark: Spark, aiohttp_client) -> TestClient:
    await spark.user("alice", password_hash=await hash_password(CHEAP_PASSWORDS, PASSWORD))
    client = await aiohttp_client(spark.server)
    response = await client.post(
        "/auth/sign_in",
        data={"username": "alice", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert response.status == 303
    return client


def articles(html: str) -> list[str]:
    return re.findall(r"<article class=\"post.*?</article>", html, flags=re.S)


async def test_a_remote_profile_shows_its_recent_posts_on_first_view(
    spark, aiohttp_client, aiohttp_server
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    peer.create_note("bob", "an older public post")
    peer.create_note("bob", "for followers only", visibility="private")
    peer.create_note("bob", "the newest public post")
    visitor = await aiohttp_client(spark.server)
    assert (await visitor.get(f"/@bob@{peer.domain}", headers=HTML)).status == 404  # visitors fetch nothing

    client = await signed_in(spark, aiohttp_client)
    page = await client.get(f"/@bob@{peer.domain}", headers=HTML)
    assert page.status == 200
    html = await page.text()
    shown = articles(html)
    assert len(shown) == 2, html
    # (Both were published in the same second: Mastodon's `published` has no finer grain.)
    assert sorted("newest" in a for a in shown) == [False, True] and all("public post" in a for a in shown)
    assert "for followers only" not in html
    assert f"@bob@{peer.domain}" in html and ">Follow</button>" in html


async def test_a_thread_fetches_the_post_it_answers(spark, aiohttp_client, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    top = peer.create_note("bob", "the question")
    reply = peer.create_note("carol", "the answer", in_reply_to=top["object"]["id"])
    # Stored as a deep reply is: without fetching what it answers.
    stored = await spark.ctx.notes.ingest(reply["object"], depth=MAX_PARENT_DEPTH)
    assert stored.in_reply_to_id is None
    client = await signed_in(spark, aiohttp_client)
    page = await client.get(f"/@carol@{peer.domain}/{stored.id}", headers=HTML)
    assert page.status == 200
    shown = articles(await page.text())
    assert len(shown) == 2
    assert "the question" in shown[0] and "the answer" in shown[1]
    assert f'Replying to <a href="/@bob@{peer.domain}">@bob@{peer.domain}</a>' in shown[1]
