"""Muted words (filters v2): the matching rules, the stored filters, and how reading applies them.

Filters are applied when reading, so these tests post first and filter afterwards as well as the
other way round; every check goes through the real API of a running instance.
"""

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from outbox import actions, interactions, posts
from spark_fed import filters
from spark_fed.errors import UsageError
from spark_fed.filters import KeywordEdit, filter_matches, keyword_pattern
from spark_fed.models import Filter, FilterKeyword
from spark_fed.models.types import utcnow
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark


async def _client(spark: Spark, aiohttp_client, name: str, scopes: str = "read write follow"):
    account = await spark.user(name)
    token = await create_token(spark.db, account, parse_scopes(scopes))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account


def _ids(entities: list[dict]) -> list[str]:
    return [e["id"] for e in entities]


# --- the matching rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "whole_word", "text", "matches"),
    [
        ("cat", True, "I like my Cat.", True),
        ("cat", True, "concatenate", False),
        ("cat", False, "conCATenate", True),
        ("cat", True, "cats", False),
        ("cat", False, "cats", True),
        ("ice cream", True, "I want ICE CREAM now", True),
        ("#spark", True, "hello #spark!", True),  # no \b before a non-word start
        ("#spark", True, "hello x#spark", True),
        ("#spark", True, "#sparkling", False),
        ("c++", True, "I write c++ daily", True),
        ("c++", True, "abc++", False),  # the start is a word character: \b before it
        ("straße", True, "die STRASSE", False),
        ("café", True, "Un CAFÉ noir", True),
        ("a.b", False, "axb", False),  # escaped, not a pattern
    ],
)
def test_keyword_pattern_follows_mastodons_rule(keyword, whole_word, text, matches) -> None:
    assert bool(keyword_pattern(keyword, whole_word).search(text)) is matches


# --- storing ------------------------------------------------------------------------------------


async def test_create_update_delete_and_validation(spark: Spark) -> None:
    alice, bob = await spark.user("alice"), await spark.user("bob")
    db = spark.db
    for bad in (
        {"title": " ", "contexts": ["home"]},
        {"title": "x", "contexts": []},
        {"title": "x", "contexts": ["home", "inbox"]},
        {"title": "x", "contexts": ["home"], "action": "blur"},
        {"title": "x", "contexts": ["home"], "keywords": [(" ", True)]},
        {"title": "x", "contexts": ["home"], "expires_in": 0},
        {"title": "x" * 257, "contexts": ["home"]},
    ):
        with pytest.raises(UsageError):
            await filters.create_filter(db, alice, **bad)
    async with db.read() as session:
        assert (await session.exec(select(Filter))).all() == []  # nothing half-stored

    made = await filters.create_filter(
        db, alice, title="Spoilers", contexts=["public", "home", "home"], keywords=[("finale", True)],
        expires_in=3600,
    )  # fmt: skip
    assert made.contexts == "home,public" and made.action == "warn"
    assert timedelta(minutes=59) < made.expires_at - utcnow() <= timedelta(hours=1)
    async with db.read() as session:
        [(row, [word])] = await filters.list_filters(session, alice.id)
        assert await filters.list_filters(session, bob.id) == []
    assert word.keyword == "finale" and word.whole_word

    await filters.update_filter(
        db, alice, made.id, title="TV", action="hide", expires_in=None,
        keywords=[KeywordEdit(id=word.id, whole_word=False), ("season", True)],
    )  # fmt: skip
    async with db.read() as session:
        row, words = await filters.get_filter(session, alice.id, made.id)
    assert (row.title, row.action, row.expires_at) == ("TV", "hide", None)
    assert [(w.keyword, w.whole_word) for w in words] == [("finale", False), ("season", True)]

    with pytest.raises(filters.FilterNotFound):  # another's filter looks like none at all
        await filters.update_filter(db, bob, made.id, title="mine")
    with pytest.raises(filters.FilterNotFound):
        await filters.delete_keyword(db, bob, words[0].id)
    with pytest.raises(UsageError):  # a bad edit changes nothing, the good ones neither
        await filters.update_filter(
            db, alice, made.id, title="ok", keywords=[KeywordEdit(id=words[0].id, keyword="")]
        )
    async with db.read() as session:
        assert (await session.get(Filter, made.id)).title == "TV"

    added = await filters.add_keyword(db, alice, made.id, "Cliffhanger", whole_word=False)
    await filters.update_keyword(db, alice, added.id, keyword="cliff")
    await filters.delete_keyword(db, alice, words[1].id)
    async with db.read() as session:
        _row, words = await filters.get_filter(session, alice.id, made.id)
    assert [(w.keyword, w.whole_word) for w in words] == [("finale", False), ("cliff", False)]

    await filters.delete_filter(db, alice, made.id)
    async with db.read() as session:
        assert (await session.exec(select(FilterKeyword))).all() == []


async def test_matching_reads_text_and_warning_skips_own_posts_and_expired_filters(spark: Spark) -> None:
    alice, bob = await spark.user("alice"), await spark.user("bob")
    ctx = spark.ctx
    plain = await posts.post(ctx, bob, "The FINALE was great")
    warned = await posts.post(ctx, bob, "no words here", cw="finale talk")
    other = await posts.post(ctx, bob, "finales are fine")  # whole word: no match
    own = await posts.post(ctx, alice, "my own finale")
    boost = await interactions.boost(ctx, alice, plain.uri)
    live = await filters.create_filter(
        ctx.db, alice, title="TV", contexts=["home"], keywords=[("finale", True), ("great", True)]
    )
    await filters.create_filter(
        ctx.db, alice, title="Old", contexts=["home"], keywords=[("fine", False)], expires_in=60
    )
    async with ctx.db.write() as session:  # the second filter expires
        for row in (await session.exec(select(Filter).where(Filter.title == "Old"))).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
    async with ctx.db.read() as session:
        found = await filter_matches(session, alice.id, [plain, warned, other, own, boost], "home")
        elsewhere = await filter_matches(session, alice.id, [plain], "public")
        anywhere = await filter_matches(session, alice.id, [plain], None)
    assert set(found) == {plain.id, warned.id, boost.id}
    [result] = found[plain.id]
    assert result.filter.id == live.id and result.keyword_matches == ["finale", "great"]
    assert found[warned.id][0].keyword_matches == ["finale"]
    assert found[boost.id][0].keyword_matches == ["finale", "great"]  # the boosted post's text
    assert elsewhere == {} and set(anywhere) == {plain.id}


# --- through the API ------------------------------------------------------------------------------


async def _filter(client, **fields) -> dict:
    resp = await client.post(
        "/api/v2/filters", data=json.dumps(fields), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_muted_word_hides_old_and_new_posts_in_its_contexts_only(
    spark: Spark, aiohttp_client
) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    ctx = spark.ctx
    bob = await spark.user("bob")
    await actions.follow(ctx, alice, bob.uri)
    old = await posts.post(ctx, bob, "Old news about Brexit")
    keep = await posts.post(ctx, bob, "Something else entirely")

    async def home() -> list[str]:
        return _ids(await (await client.get("/api/v1/timelines/home")).json())

    async def public() -> list[str]:
        return _ids(await (await client.get("/api/v1/timelines/public")).json())

    assert await home() == [str(keep.id), str(old.id)]
    made = await _filter(
        client, title="Politics", context=["home"], filter_action="hide",
        keywords_attributes=[{"keyword": "brexit", "whole_word": True}],
    )  # fmt: skip
    assert made["context"] == ["home"] and made["filter_action"] == "hide"
    assert [k["keyword"] for k in made["keywords"]] == ["brexit"] and made["expires_at"] is None
    new = await posts.post(ctx, bob, "More on #Brexit today")
    assert await home() == [str(keep.id)]  # the old post and the new one are hidden
    assert await public() == [str(new.id), str(keep.id), str(old.id)]  # not in another context
    account = await (await client.get(f"/api/v1/accounts/{bob.id}/statuses")).json()
    assert str(old.id) in _ids(account)

    # Paging walks past hidden posts: the Link header is that of the page as read.
    resp = await client.get("/api/v1/timelines/home", params={"limit": "1"})
    assert await resp.json() == [] and f"max_id={new.id}" in resp.headers["Link"]

    # The single post still answers, naming the filter, for the app to decide.
    single = await (await client.get(f"/api/v1/statuses/{old.id}")).json()
    assert [f["filter"]["id"] for f in single["filtered"]] == [made["id"]]

    # A change of context applies at once; deleting the filter brings the posts back.
    resp = await client.put(f"/api/v2/filters/{made['id']}", data={"context[]": ["public", "thread"]})
    assert resp.status == 200 and (await resp.json())["context"] == ["public", "thread"]
    assert await home() == [str(new.id), str(keep.id), str(old.id)]
    assert await public() == [str(keep.id)]
    reply = await posts.post(ctx, bob, "brexit again", reply_to=keep.uri)
    thread = await (await client.get(f"/api/v1/statuses/{keep.id}/context")).json()
    assert thread["descendants"] == []
    assert (await client.delete(f"/api/v2/filters/{made['id']}")).status == 200
    thread = await (await client.get(f"/api/v1/statuses/{keep.id}/context")).json()
    assert _ids(thread["descendants"]) == [str(reply.id)]
    assert (await client.get(f"/api/v2/filters/{made['id']}")).status == 404


async def test_warn_carries_filtered_and_whole_word_differs_from_substring(
    spark: Spark, aiohttp_client
) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    ctx = spark.ctx
    bob, carol = await spark.user("bob"), await spark.user("carol")
    await actions.follow(ctx, alice, bob.uri)
    word = await posts.post(ctx, bob, "a cat sat")
    inside = await posts.post(ctx, bob, "concatenation")
    boost = await interactions.boost(ctx, bob, (await posts.post(ctx, carol, "my cat")).uri)
    # A form body, as Mastodon.py's older calls and curl send it.
    resp = await client.post(
        "/api/v2/filters",
        data=[
            ("title", "Cats"), ("context[]", "home"), ("filter_action", "warn"),
            ("keywords_attributes[][keyword]", "CAT"), ("keywords_attributes[][whole_word]", "true"),
        ],
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    whole = await resp.json()
    home = {s["id"]: s for s in await (await client.get("/api/v1/timelines/home")).json()}
    assert set(home) == {str(word.id), str(inside.id), str(boost.id)}  # warn hides nothing
    [result] = home[str(word.id)]["filtered"]
    assert result["filter"]["id"] == whole["id"] and result["filter"]["title"] == "Cats"
    assert result["filter"]["filter_action"] == "warn" and result["keyword_matches"] == ["CAT"]
    assert home[str(inside.id)]["filtered"] == []
    assert home[str(boost.id)]["filtered"] and home[str(boost.id)]["reblog"]["filtered"]

    # The keyword becomes a substring match: now the longer word matches too.
    [keyword] = await (await client.get(f"/api/v2/filters/{whole['id']}/keywords")).json()
    resp = await client.put(f"/api/v2/filters/keywords/{keyword['id']}", data={"whole_word": "false"})
    assert (await resp.json())["whole_word"] is False
    home = {s["id"]: s for s in await (await client.get("/api/v1/timelines/home")).json()}
    assert home[str(inside.id)]["filtered"][0]["keyword_matches"] == ["CAT"]
    public = await (await client.get("/api/v1/timelines/public")).json()
    assert all(s["filtered"] == [] for s in public)  # a home filter: public shows no warning


async def test_expiry_notifications_and_keyword_endpoints(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    ctx = spark.ctx
    bob = await spark.user("bob")
    spam = await posts.post(ctx, bob, "@alice buy crypto now")
    fine = await posts.post(ctx, bob, "@alice lunch?")
    made = await _filter(
        client, title="Spam", context=["notifications"], filter_action="hide", expires_in=600
    )
    assert made["expires_at"] is not None and made["keywords"] == []
    added = await client.post(f"/api/v2/filters/{made['id']}/keywords", data={"keyword": "crypto"})
    assert added.status == 200
    keyword = await added.json()
    assert keyword["whole_word"] is True
    assert (await (await client.get(f"/api/v2/filters/keywords/{keyword['id']}")).json()) == keyword

    async def notified() -> list[str]:
        found = await (await client.get("/api/v1/notifications")).json()
        return [n["status"]["id"] for n in found if "status" in n]

    assert await notified() == [str(fine.id)]
    home = _ids(await (await client.get("/api/v1/timelines/home")).json())
    assert home == [str(fine.id), str(spam.id)]  # a filter of notifications leaves home alone
    async with ctx.db.write() as session:  # the filter's time is up
        row = await session.get(Filter, int(made["id"]))
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert await notified() == [str(fine.id), str(spam.id)]
    listed = await (await client.get("/api/v2/filters")).json()
    assert _ids(listed) == [made["id"]]  # an expired filter is still listed, as Mastodon lists it

    # Making it live again, then taking its one keyword away.
    resp = await client.put(f"/api/v2/filters/{made['id']}", data={"expires_in": "3600"})
    assert (await resp.json())["expires_at"] is not None
    assert await notified() == [str(fine.id)]
    assert (await client.delete(f"/api/v2/filters/keywords/{keyword['id']}")).status == 200
    assert await notified() == [str(fine.id), str(spam.id)]
    assert (await client.get(f"/api/v2/filters/keywords/{keyword['id']}")).status == 404


async def test_filter_errors_and_scopes(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    other, _bob = await _client(spark, aiohttp_client, "bob")
    reader, _carol = await _client(spark, aiohttp_client, "carol", "read")
    for body in (
        {"context": ["home"]},
        {"title": "x"},
        {"title": "x", "context": ["nowhere"]},
        {"title": "x", "context": ["home"], "filter_action": "blur"},
        {"title": "x", "context": ["home"], "expires_in": "soon"},
        {"title": "x", "context": ["home"], "keywords_attributes": "cat"},
        {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
    ):
        resp = await client.post(
            "/api/v2/filters", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert resp.status == 422, (body, await resp.text())
    made = await _filter(client, title="x", context=["home"], keywords_attributes={"0": {"keyword": "a"}})
    assert [k["keyword"] for k in made["keywords"]] == ["a"]
    assert (await other.get(f"/api/v2/filters/{made['id']}")).status == 404
    assert (await other.delete(f"/api/v2/filters/{made['id']}")).status == 404
    assert (await other.get(f"/api/v2/filters/keywords/{made['keywords'][0]['id']}")).status == 404
    assert (await client.get("/api/v2/filters/99999999999999999999")).status == 404
    assert (await reader.get("/api/v2/filters")).status == 200
    assert (await reader.post("/api/v2/filters", data={"title": "x", "context[]": "home"})).status == 403
    # Keyword edits in a PUT: change one, remove it, add another.
    keyword_id = made["keywords"][0]["id"]
    body = {
        "keywords_attributes": [{"id": keyword_id, "_destroy": True}, {"keyword": "b", "whole_word": False}]
    }
    resp = await client.put(
        f"/api/v2/filters/{made['id']}", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert [(k["keyword"], k["whole_word"]) for k in (await resp.json())["keywords"]] == [("b", False)]
