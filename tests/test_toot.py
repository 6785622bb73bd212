"""Spark driven by the real `toot` command-line client (0.52.1), as a person at a terminal would.

toot runs as a subprocess (docs/decisions.md: blocking clients never on the test's event loop), with
a scratch HOME and XDG directories, so it never reads or writes the real ones. It talks plain
http to loopback instances: toot adds `https://` only to an instance given without a scheme, so
`--instance http://127.0.0.1:PORT` is all it takes. It signs in with the password grant
(`login_cli`; the password comes from the environment, as click reads `TOOT_LOGIN_CLI_PASSWORD`,
so it is not on a command line) and sends JSON bodies, unlike Mastodon.py's forms.
"""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from outbox import interactions, posts
from spark_fed.accounts import set_password_hash
from spark_fed.models import Follow, FollowState, Notification
from spark_fed.passwords import hash_password

from .conftest import Spark, eventually

TOOT = Path(sys.executable).with_name("toot")
PASSWORD = "a long enough password"
TIMEOUT = 60.0  # seconds for one toot command; each takes about half a second

pytestmark = pytest.mark.skipif(not TOOT.exists(), reason="toot is not installed (the test extras pin it)")


class Toot:
    """The toot command with a home of its own."""

    def __init__(self, home: Path) -> None:
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "NO_PROXY": "*",  # and no *_proxy variables at all: loopback, directly
            "TOOT_LOGIN_CLI_PASSWORD": PASSWORD,
        }

    async def run(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            str(TOOT),
            *args,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"toot {' '.join(args)} did not finish within {TIMEOUT:.0f} s") from None
        text = out.decode("utf-8", "replace")
        assert process.returncode == 0, (
            f"toot {' '.join(args)} exited {process.returncode}:\n{text}{err.decode()}"
        )
        return text

    async def json(self, *args: str) -> Any:
        return json.loads(await self.run(*args, "--json"))


async def _with_password(spark: Spark, name: str, **kwargs: Any):
    account = await spark.user(name, **kwargs)
    await set_password_hash(spark.db, account, await hash_password(spark.config.auth, PASSWORD))
    return account


async def test_toot_signs_in_over_http_posts_replies_and_reads(spark: Spark, tmp_path: Path) -> None:
    await _with_password(spark, "alice", email="alice@example.test")
    toot = Toot(tmp_path / "home")

    # The e-mail address, as toot's prompt asks for it; the password grant takes it too.
    out = await toot.run("login_cli", "--instance", spark.base, "--email", "alice@example.test")
    assert "Successfully logged in" in out
    config = json.loads((tmp_path / "home/config/toot/config.json").read_text())
    [app] = config["apps"].values()
    assert app["base_url"] == spark.base  # plain http, as given

    me = await toot.json("whoami")
    assert me["acct"] == "alice" and me["source"]["privacy"] == "public"
    instance = await toot.json("instance")
    assert instance["uri"] == spark.domain and instance["version"].startswith("4.5.0")

    first = await toot.json("post", "Hello from toot #spark")
    assert first["account"]["acct"] == "alice" and first["visibility"] == "public"
    assert [t["name"] for t in first["tags"]] == ["spark"]
    reply = await toot.json(
        "post", "a reply", "--reply-to", first["id"], "--visibility", "unlisted",
        "--spoiler-text", "cw", "--language", "en",
    )  # fmt: skip
    assert reply["in_reply_to_id"] == first["id"] and reply["visibility"] == "unlisted"
    assert reply["spoiler_text"] == "cw" and reply["sensitive"] and reply["language"] == "en"

    home = await toot.json("timelines", "home")
    assert [s["id"] for s in home] == [reply["id"], first["id"]]
    tagged = await toot.json("timelines", "tag", "spark", "--no-pager")
    assert [s["id"] for s in tagged] == [first["id"]]
    local = await toot.json("timelines", "public", "--local")
    assert [s["id"] for s in local] == [first["id"]]  # the unlisted reply stays out
    assert (await toot.json("status", first["id"]))["replies_count"] == 1
    thread = await toot.json("thread", first["id"])
    assert [s["id"] for s in thread["descendants"]] == [reply["id"]]

    text = await toot.run("timelines", "home", "--no-pager", "--no-clear")
    assert "Hello from toot #spark" in text and "@alice" in text

    updated = await toot.json("update-account", "--display-name", "Alice T", "--note", "I toot")
    assert updated["display_name"] == "Alice T" and updated["source"]["note"] == "I toot"

    # A local account: followed at once, and counted wherever toot shows it (`whois` reads the
    # account that /api/v2/search returns).
    await spark.user("bob")
    assert "You are now following bob" in await toot.run("follow", "bob")
    assert "Followers: 1" in await toot.run("whois", "bob")

    deleted = await toot.json("delete", reply["id"])
    assert deleted["id"] == reply["id"]
    assert [s["id"] for s in await toot.json("timelines", "home")] == [first["id"]]


async def test_toot_follows_a_remote_account_and_interacts(start_spark, tmp_path: Path) -> None:
    a, b = await start_spark(), await start_spark()
    await _with_password(a, "alice")
    bob = await _with_password(b, "bob")
    toot = Toot(tmp_path / "home")
    await toot.run("login_cli", "--instance", a.base, "--email", "alice")

    # toot finds the account with /api/v2/search?resolve=true (WebFinger on b), then follows it.
    out = await toot.run("follow", f"bob@{b.domain}")
    assert "following" in out or "requested" in out

    async def accepted() -> bool:
        async with a.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="bob's server to accept alice's follow")
    following = await toot.json("following", "alice")
    assert [x["acct"] for x in following] == [f"bob@{b.domain}"]

    bobs_post = await posts.post(b.ctx, bob, "a post for my followers")

    async def arrived() -> dict | None:
        return next((s for s in await toot.json("timelines", "home") if s["uri"] == bobs_post.uri), None)

    copy = await eventually(arrived, timeout=20, what="bob's post in alice's home timeline, read by toot")
    assert (await toot.json("favourite", copy["id"]))["favourited"] is True
    assert (await toot.json("reblog", copy["id"]))["reblogged"] is True

    async def notified() -> list[str] | None:
        async with b.db.read() as session:
            kinds = sorted(
                (await session.exec(select(Notification.type).where(Notification.account_id == bob.id))).all()
            )
        return kinds if kinds == ["favourite", "follow", "reblog"] else None

    await eventually(notified, timeout=20, what="bob's notifications of alice's follow, like and boost")

    # And the other way round: bob, on his server, likes alice's post; toot shows her that.
    mine = await toot.json("post", "a post bob will like")
    await interactions.like(b.ctx, bob, mine["uri"])

    async def liked() -> list | None:
        notes = await toot.json("notifications")
        return notes or None

    notes = await eventually(liked, timeout=20, what="alice's notification of bob's like, read by toot")
    assert [(n["type"], n["account"]["acct"]) for n in notes] == [("favourite", f"bob@{b.domain}")]
    assert notes[0]["status"]["id"] == mine["id"]
