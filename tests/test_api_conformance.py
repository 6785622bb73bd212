"""Every client-API operation Spark serves answers in the shapes Mastodon's API description gives.

The checking itself is `tests/openapi/conformance.py`, which every test instance carries: any test
that talks to the API fails on an answer unlike Mastodon's. This module makes sure the check has
something to see: one scenario drives every operation the two descriptions share, with real data
(local and remote accounts, posts with images, every kind of notification, follows and follow
requests, blocks, mutes, filters, markers, a report, OAuth), and then asserts that each operation
answered with success at least once. It also shows that the checker fails when it should, and
that every deviation still names a part of the description.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import FormData

import api
from spark_fed.accounts import set_password_hash
from spark_fed.passwords import hash_password
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, eventually
from .openapi import conformance
from .test_api_media import image_bytes

PASSWORD = "correct horse battery staple"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _described_by_both() -> set[tuple[str, str]]:
    """(METHOD, Spark's route) of every operation in api/openapi.yaml that Mastodon's description has."""
    ours = yaml.safe_load((Path(api.__file__).parent / "openapi.yaml").read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, item in ours["paths"].items()
        for method in item
        if method in conformance.METHODS and conformance.operation_of(method.upper(), path)
    }


async def _client(spark: Spark, aiohttp_client, name: str, **kwargs: Any):
    account = await spark.user(name, **kwargs)
    token = await create_token(spark.db, account, parse_scopes("read write follow"))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account


async def _ok(response) -> Any:
    assert response.status == 200, f"{response.method} {response.url}: {await response.text()}"
    return await response.json() if response.content_type == "application/json" else None


def _image(description: str = "") -> FormData:
    data = FormData()
    data.add_field("file", image_bytes(), filename="a.png", content_type="image/png")
    if description:
        data.add_field("description", description)
    return data


async def test_every_shared_operation_answers_in_mastodons_shapes(start_spark, aiohttp_client) -> None:
    here, there = await start_spark(), await start_spark()
    alice_api, alice = await _client(here, aiohttp_client, "alice", email="alice@example.com")
    carol_api, carol = await _client(here, aiohttp_client, "carol")
    dave_api, dave = await _client(here, aiohttp_client, "dave")
    erin_api, erin = await _client(here, aiohttp_client, "erin")
    bob_api, _bob = await _client(there, aiohttp_client, "bob")
    anonymous = await aiohttp_client(here.server)

    # A remote account with a post with an image, followed through the API.
    found = await _ok(
        await alice_api.get("/api/v2/search", params={"q": f"bob@{there.domain}", "resolve": "true"})
    )
    bob_id = found["accounts"][0]["id"]
    relationship = await _ok(await alice_api.post(f"/api/v1/accounts/{bob_id}/follow"))
    assert relationship["id"] == bob_id

    async def accepted() -> bool:
        return (await _ok(await alice_api.get("/api/v1/accounts/relationships", params={"id[]": bob_id})))[0][
            "following"
        ]

    await eventually(accepted, what="bob's server to accept alice's follow")
    upload = await _ok(await bob_api.post("/api/v1/media", data=_image("a blue square")))
    await _ok(
        await bob_api.post(
            "/api/v1/statuses", data={"status": "a remote picture", "media_ids[]": upload["id"]}
        )
    )

    async def remote_post() -> list:
        return [
            s
            for s in await _ok(await alice_api.get("/api/v1/timelines/home"))
            if s["account"]["id"] == bob_id and s["media_attachments"]
        ]

    [remote] = await eventually(remote_post, what="bob's picture in alice's home timeline")
    await _ok(await alice_api.get("/api/v1/timelines/public", params={"remote": "true"}))

    # Alice's own post with an image and a tag, and everything one does to a post.
    media = await _ok(await alice_api.post("/api/v2/media", data=_image()))
    await _ok(await alice_api.post("/api/v1/media", data=_image("the old way")))
    await _ok(await alice_api.get(f"/api/v1/media/{media['id']}"))
    await _ok(await alice_api.put(f"/api/v1/media/{media['id']}", data={"description": "a square"}))
    post = await _ok(
        await alice_api.post("/api/v1/statuses", data={"status": "hello #spark", "media_ids[]": media["id"]})
    )
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}"))
    quoting = await _ok(
        await carol_api.post(
            "/api/v1/statuses",
            data={"status": "look", "quoted_status_id": post["id"], "quote_approval_policy": "followers"},
        )
    )
    assert quoting["quote"]["state"] == "accepted" and quoting["quote"]["quoted_status"]["id"] == post["id"]
    await _ok(await alice_api.put(f"/api/v1/statuses/{post['id']}", data={"status": "hello again #spark"}))
    reply = await _ok(
        await carol_api.post("/api/v1/statuses", data={"status": "@alice hi", "in_reply_to_id": post["id"]})
    )
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/context"))
    await _ok(await carol_api.post(f"/api/v1/statuses/{post['id']}/favourite"))
    await _ok(await carol_api.post(f"/api/v1/statuses/{post['id']}/reblog"))
    await _ok(await alice_api.post(f"/api/v1/statuses/{remote['id']}/favourite"))
    await _ok(await alice_api.post(f"/api/v1/statuses/{remote['id']}/unfavourite"))
    await _ok(await alice_api.post(f"/api/v1/statuses/{reply['id']}/reblog"))
    await _ok(await carol_api.put(f"/api/v1/statuses/{reply['id']}", data={"status": "@alice hi, edited"}))
    await _ok(await alice_api.post(f"/api/v1/statuses/{reply['id']}/unreblog"))
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/favourited_by"))
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/reblogged_by"))
    # Bookmarks, the favourites list and pins.
    await _ok(await alice_api.post(f"/api/v1/statuses/{remote['id']}/bookmark"))
    await _ok(await alice_api.get("/api/v1/bookmarks"))
    await _ok(await alice_api.post(f"/api/v1/statuses/{remote['id']}/unbookmark"))
    await _ok(await carol_api.get("/api/v1/favourites"))
    await _ok(await alice_api.post(f"/api/v1/statuses/{post['id']}/pin"))
    await _ok(await alice_api.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"}))
    await _ok(await alice_api.post(f"/api/v1/statuses/{post['id']}/unpin"))
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/history"))
    await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/source"))
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    waiting = await _ok(
        await alice_api.post("/api/v1/statuses", data={"status": "later", "scheduled_at": later})
    )
    await _ok(await alice_api.get("/api/v1/scheduled_statuses"))
    await _ok(await alice_api.get(f"/api/v1/scheduled_statuses/{waiting['id']}"))
    await _ok(
        await alice_api.put(f"/api/v1/scheduled_statuses/{waiting['id']}", data={"scheduled_at": later})
    )
    await _ok(await alice_api.delete(f"/api/v1/scheduled_statuses/{waiting['id']}"))
    asked = await _ok(
        await alice_api.post(
            "/api/v1/statuses",
            data=[
                ("status", "tea?"),
                ("poll[options][]", "yes"),
                ("poll[options][]", "no"),
                ("poll[expires_in]", "600"),
            ],
        )
    )
    await _ok(await anonymous.get(f"/api/v1/polls/{asked['poll']['id']}"))
    await _ok(await carol_api.post(f"/api/v1/polls/{asked['poll']['id']}/votes", data={"choices[]": "0"}))
    await _ok(await alice_api.put(f"/api/v1/statuses/{asked['id']}", data={"status": "tea, or?"}))
    revised = await _ok(await anonymous.get(f"/api/v1/statuses/{asked['id']}/history"))
    assert [r["poll"] for r in revised] == [{"options": [{"title": "yes"}, {"title": "no"}]}] * 2
    quotes = await _ok(await alice_api.get(f"/api/v1/statuses/{post['id']}/quotes"))
    assert [s["id"] for s in quotes] == [quoting["id"]]
    revoked = await _ok(await alice_api.post(f"/api/v1/statuses/{post['id']}/quotes/{quoting['id']}/revoke"))
    assert revoked["quote"] == {"state": "revoked", "quoted_status": None}
    doomed = await _ok(await alice_api.post("/api/v1/statuses", data={"status": "soon gone"}))
    await _ok(await alice_api.delete(f"/api/v1/statuses/{doomed['id']}"))

    # Follows, a follow request accepted and one refused.
    await _ok(await carol_api.post(f"/api/v1/accounts/{alice.id}/follow"))
    await _ok(await alice_api.patch("/api/v1/accounts/update_credentials", data={"locked": "true"}))
    await _ok(await dave_api.post(f"/api/v1/accounts/{alice.id}/follow"))
    await _ok(await erin_api.post(f"/api/v1/accounts/{alice.id}/follow"))
    assert len(await _ok(await alice_api.get("/api/v1/follow_requests"))) == 2
    await _ok(await alice_api.post(f"/api/v1/follow_requests/{dave.id}/authorize"))
    await _ok(await alice_api.post(f"/api/v1/follow_requests/{erin.id}/reject"))
    await _ok(await carol_api.post(f"/api/v1/accounts/{dave.id}/follow"))
    removed = await _ok(await dave_api.post(f"/api/v1/accounts/{carol.id}/remove_from_followers"))
    assert removed["followed_by"] is False
    await _ok(await carol_api.post(f"/api/v1/accounts/{dave.id}/follow"))
    await _ok(await carol_api.post(f"/api/v1/accounts/{dave.id}/unfollow"))

    # Every kind of notification Spark makes, each in the list, one by one, then dismissed.
    notes = await _ok(await alice_api.get("/api/v1/notifications"))
    assert {n["type"] for n in notes} == {
        "follow",
        "follow_request",
        "mention",
        "favourite",
        "reblog",
        "update",
        "quote",
    }
    await _ok(await alice_api.get(f"/api/v1/notifications/{notes[0]['id']}"))
    await _ok(await alice_api.post(f"/api/v1/notifications/{notes[0]['id']}/dismiss"))

    # Reading.
    for path in (
        "/api/v1/instance",
        "/api/v1/instance/",
        "/api/v2/instance",
        "/api/v2/instance/",
        "/api/v1/instance/rules",
        "/api/v1/instance/domain_blocks",
        "/api/v1/custom_emojis",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/spark",
        f"/api/v1/accounts/{alice.id}",
        f"/api/v1/accounts/{alice.id}/statuses",
        f"/api/v1/accounts/{alice.id}/followers",
        f"/api/v1/accounts/{carol.id}/following",
        "/.well-known/oauth-authorization-server",
    ):
        await _ok(await anonymous.get(path))
    for path, query in (
        ("/api/v1/accounts/verify_credentials", {}),
        ("/api/v1/preferences", {}),
        ("/api/v1/accounts/lookup", {"acct": "carol"}),
        ("/api/v1/accounts/relationships", {"id[]": [str(carol.id), bob_id]}),
        ("/api/v1/timelines/home", {}),
        ("/api/v2/search", {"q": "spa"}),
        ("/api/v2/search", {"q": "car", "type": "accounts"}),
    ):
        await _ok(await alice_api.get(path, params=query))
    await _ok(await alice_api.post("/api/v1/markers", data={"home[last_read_id]": post["id"]}))
    await _ok(await alice_api.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]}))

    # Safety: blocks, mutes, domain blocks, filters, a report.
    await _ok(await alice_api.post(f"/api/v1/accounts/{erin.id}/block"))
    await _ok(await alice_api.post(f"/api/v1/accounts/{dave.id}/mute"))
    await _ok(await alice_api.get("/api/v1/blocks"))
    await _ok(await alice_api.get("/api/v1/mutes"))
    await _ok(await alice_api.post(f"/api/v1/accounts/{erin.id}/unblock"))
    await _ok(await alice_api.post(f"/api/v1/accounts/{dave.id}/unmute"))
    await _ok(await alice_api.post("/api/v1/domain_blocks", data={"domain": "spam.example"}))
    await _ok(await alice_api.get("/api/v1/domain_blocks"))
    await _ok(await alice_api.delete("/api/v1/domain_blocks", data={"domain": "spam.example"}))
    made = await _ok(
        await alice_api.post(
            "/api/v2/filters",
            json={"title": "weather", "context": ["home"], "keywords_attributes": [{"keyword": "rain"}]},
        )
    )
    await _ok(await alice_api.get("/api/v2/filters"))
    await _ok(await alice_api.get(f"/api/v2/filters/{made['id']}"))
    await _ok(await alice_api.put(f"/api/v2/filters/{made['id']}", json={"title": "the weather"}))
    keyword = await _ok(
        await alice_api.post(f"/api/v2/filters/{made['id']}/keywords", data={"keyword": "snow"})
    )
    await _ok(await alice_api.get(f"/api/v2/filters/{made['id']}/keywords"))
    await _ok(await alice_api.get(f"/api/v2/filters/keywords/{keyword['id']}"))
    await _ok(await alice_api.put(f"/api/v2/filters/keywords/{keyword['id']}", data={"keyword": "hail"}))
    await _ok(await alice_api.delete(f"/api/v2/filters/keywords/{keyword['id']}"))
    await _ok(await alice_api.delete(f"/api/v2/filters/{made['id']}"))
    for path in ("/api/v1/reports", "/api/v1/reports/"):
        await _ok(await alice_api.post(path, data={"account_id": str(dave.id), "comment": "rude"}))

    # OAuth: an app, a token by password, the token revoked; and the consent page.
    await set_password_hash(here.db, alice, await hash_password(here.config.auth, PASSWORD))
    app = await _ok(
        await anonymous.post(
            "/api/v1/apps", data={"client_name": "t", "redirect_uris": OOB, "scopes": "read"}
        )
    )
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    token = await _ok(
        await anonymous.post(
            "/oauth/token",
            data={
                **credentials,
                "grant_type": "password",
                "username": "alice",
                "password": PASSWORD,
                "scope": "read",
            },
        )
    )
    await _ok(await anonymous.post("/oauth/revoke", data={**credentials, "token": token["access_token"]}))
    consent = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read"}
    for path in ("/oauth/authorize", "/oauth/authorize/"):
        assert (await anonymous.get(path, params=consent)).status == 200

    await _ok(await alice_api.post("/api/v1/notifications/clear"))
    assert await _ok(await alice_api.get("/api/v1/notifications")) == []

    # Errors come in Mastodon's error shape too.
    assert (await anonymous.get("/api/v1/timelines/home")).status == 401
    assert (await alice_api.get("/api/v1/statuses/1")).status == 404
    assert (await alice_api.post("/api/v1/statuses", data={"status": ""})).status == 422

    answered = {(method, path) for method, path, status in here.app[conformance.SEEN] if status < 300}
    assert sorted(_described_by_both() - answered) == [], "operations this scenario did not reach"


async def test_the_checker_finds_what_is_wrong(spark: Spark, aiohttp_client) -> None:
    """A status as Spark serves it passes; without a required property, with a wrong type or a
    time that is not one it fails; so do errors without `error` and answers that are not JSON."""
    client, _alice = await _client(spark, aiohttp_client, "alice")
    status = await _ok(await client.post("/api/v1/statuses", data={"status": "a good one"}))
    check = "/api/v1/statuses/{id}"

    def problems(body: Any, status_code: int = 200) -> list[str]:
        encoded = json.dumps(body).encode()
        return list(conformance.problems("GET", check, status_code, "application/json", encoded))

    assert problems(status) == []
    without_account = {k: v for k, v in status.items() if k != "account"}
    assert re.search(r"'account' is a required property", " ".join(problems(without_account)))
    assert re.search(
        r"at \$\.replies_count: '3' is not of type 'integer'",
        " ".join(problems({**status, "replies_count": "3"})),
    )
    assert re.search(
        r"created_at.*is not a 'date-time'", " ".join(problems({**status, "created_at": "yesterday"}))
    )
    assert problems({"error": "Record not found"}, 404) == []
    assert problems({"message": "nope"}, 404) != []  # an error without `error`
    assert list(conformance.problems("GET", check, 200, "text/html", b"<p>")) != []


def test_every_deviation_names_a_part_of_the_description() -> None:
    """A deviation whose target is gone (the description was updated) fails, so none lingers."""
    raw = json.loads(conformance.SPEC_FILE.read_text(encoding="utf-8"))
    for deviation in conformance.DEVIATIONS:
        conformance.apply(raw, deviation)  # raises on a pointer that names nothing
        assert deviation.reason
    with pytest.raises(KeyError):
        conformance.apply(raw, conformance.Deviation("/components/schemas/Status/nothing_here", None, "x"))
