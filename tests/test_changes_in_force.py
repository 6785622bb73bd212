"""Moderation made by a `spark-fed` command, in another OS process, is in force in a running
server within a second: the suspended server's POST is refused and nothing is delivered to it,
a suspended actor is refused, a revoked token gets 401, a revoked browser session is signed out.

The server is the test harness's Spark (the app `serve` runs, with its workers); the command is
the real `spark-fed` executable on the same database. Each deadline starts when the command has
exited, that is after its commit.
"""

import asyncio
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from spark_fed import browser_sessions
from spark_fed.models import Account, Delivery, JobState
from spark_fed.models.types import utcnow
from spark_fed.tokens import create_token

from .conftest import Spark, eventually, free_port, test_config
from .peers import FakeMastodon

SCRIPT = str(Path(sys.executable).parent / "spark-fed")
IN_FORCE_WITHIN = 1.0


def _config_file(spark: Spark, directory: Path) -> Path:
    server = spark.config.server
    path = directory / f"{server.port}.toml"
    path.write_text(
        f'[server]\ndomain = "{server.domain}"\nscheme = "{server.scheme}"\nport = {server.port}\n'
        f'[database]\nurl = "{spark.config.database.url}"\n'
        "[federation]\nallow_private_addresses = true\n"
    )
    return path


async def _command(config: Path, *args: str, stdin: str = "", status: int = 0) -> str:
    """Run `spark-fed ARGS` in a process of its own, wait for it to exit with STATUS; its stderr."""
    proc = await asyncio.create_subprocess_exec(
        SCRIPT,
        "--config",
        str(config),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
    assert proc.returncode == status, (out.decode(), err.decode())
    return err.decode()


async def _in_force(check, what: str) -> None:
    await eventually(check, timeout=IN_FORCE_WITHIN, what=what)


async def _known_peer(spark: Spark, peer: FakeMastodon, alice: Account) -> None:
    """Bob, on the peer, follows alice: Spark knows his account and his server."""
    assert (await peer.follow_remote("bob", alice.uri)).status == 202
    await peer.wait_for(lambda record: record.type == "Accept", timeout=30)


async def test_a_domain_suspended_by_a_command_is_refused_and_never_contacted(
    spark: Spark, aiohttp_server, tmp_path: Path
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await _known_peer(spark, peer, alice)
    # The server has the (empty) policy in memory and has used it.
    assert (
        await peer.send(peer.create_note("bob", "hi", mentions=[alice.uri]), f"{spark.base}/inbox", "bob")
    ).ok

    await _command(_config_file(spark, tmp_path), "domains", "block", peer.domain, "--severity", "suspend")

    async def refused() -> bool:
        note = peer.create_note("bob", "still here?", mentions=[alice.uri])
        return (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 403

    await _in_force(refused, "the inbox to refuse the suspended server")

    # A delivery queued to it now (by a process that had not heard yet) is given up unsent.
    posts_before = len(peer.inbox_log)
    async with spark.db.write() as session:
        job = Delivery(sender_id=alice.id, inbox_url=peer.inbox_url("bob"), activity_id="urn:late", body="{}")
        session.add(job)
    spark.ctx.deliveries_queued()

    async def given_up() -> bool:
        async with spark.db.read() as session:
            row = await session.get(Delivery, job.id)
        return row is not None and row.state == JobState.FAILED

    await eventually(given_up, what="the worker to give the delivery up")
    assert len(peer.inbox_log) == posts_before


async def test_an_actor_suspended_by_a_command_is_refused(
    spark: Spark, aiohttp_server, tmp_path: Path
) -> None:
    peer = FakeMastodon("bob", "dave")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await _known_peer(spark, peer, alice)

    await _command(_config_file(spark, tmp_path), "moderation", "suspend", f"bob@{peer.domain}")

    async def refused() -> bool:
        note = peer.create_note("bob", "still here?", mentions=[alice.uri])
        return (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 403

    await _in_force(refused, "the inbox to refuse the suspended actor")
    # The rest of his server is not concerned.
    other = peer.create_note("dave", "hello", mentions=[alice.uri])
    assert (await peer.send(other, f"{spark.base}/inbox", "dave")).status == 202


async def test_a_token_revoked_by_a_command_gets_401(spark: Spark, tmp_path: Path) -> None:
    alice = await spark.user("alice")
    token = await create_token(spark.db, alice, ["read"])
    url = f"{spark.base}/api/v1/accounts/verify_credentials"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:

        async def status() -> int:
            async with http.get(url) as response:
                return response.status

        assert await status() == 200
        await _command(_config_file(spark, tmp_path), "tokens", "revoke", stdin=f"{token}\n")

        async def refused() -> bool:
            return await status() == 401

        await _in_force(refused, "the revoked token to get 401")
    again = await _command(_config_file(spark, tmp_path), "tokens", "revoke", stdin=f"{token}\n", status=2)
    assert again == "spark-fed: no live token is that one\n"


async def test_a_suspension_by_a_command_ends_the_accounts_tokens_and_sessions(
    spark: Spark, tmp_path: Path
) -> None:
    alice = await spark.user("alice")
    token = await create_token(spark.db, alice, ["read"])
    cookie = await browser_sessions.start(spark.db, alice, user_agent="test", address="127.0.0.1")
    async with aiohttp.ClientSession(cookies={"spark_session": cookie}) as http:

        async def statuses() -> tuple[int, int]:
            headers = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{spark.base}/api/v1/accounts/verify_credentials", headers=headers) as api:
                pass
            async with http.get(f"{spark.base}/settings", allow_redirects=False) as page:
                return api.status, page.status

        assert await statuses() == (200, 200)
        await _command(_config_file(spark, tmp_path), "moderation", "suspend", "alice")

        async def refused() -> bool:
            return await statuses() == (401, 303)

        await _in_force(refused, "the suspended account's token and session to end")


async def test_a_session_revoked_by_a_command_is_signed_out(spark: Spark, tmp_path: Path) -> None:
    alice = await spark.user("alice")
    cookie = await browser_sessions.start(spark.db, alice, user_agent="test", address="127.0.0.1")
    async with aiohttp.ClientSession(cookies={"spark_session": cookie}) as http:

        async def status() -> int:
            async with http.get(f"{spark.base}/settings", allow_redirects=False) as page:
                return page.status

        assert await status() == 200
        await _command(_config_file(spark, tmp_path), "sessions", "revoke", "alice", "--all")

        async def signed_out() -> bool:
            return await status() == 303

        await _in_force(signed_out, "the session to be signed out")


async def test_a_worker_process_hears_a_suspension_before_its_next_delivery(
    start_spark, database_url, aiohttp_server, tmp_path: Path
) -> None:
    """`spark-fed worker`, a process of its own, and the command in another: a delivery due one
    second after the command's commit is given up unsent."""
    port = free_port()
    config = test_config(await database_url(), port)
    spark = await start_spark(replace(config, server=replace(config.server, run_workers=False)))
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    settings = _config_file(spark, tmp_path)
    worker = await asyncio.create_subprocess_exec(
        SCRIPT,
        "--config",
        str(settings),
        "worker",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _known_peer(spark, peer, alice)  # the worker delivered the Accept
        await _command(settings, "domains", "block", peer.domain, "--severity", "suspend")
        due = utcnow() + timedelta(seconds=IN_FORCE_WITHIN)
        posts_before = len(peer.inbox_log)
        async with spark.db.write() as session:
            job = Delivery(
                sender_id=alice.id,
                inbox_url=peer.inbox_url("bob"),
                activity_id="urn:due",
                body="{}",
                next_attempt_at=due,
            )
            session.add(job)

        async def given_up() -> bool:
            async with spark.db.read() as session:
                row = await session.get(Delivery, job.id)
            return row is not None and row.state == JobState.FAILED

        await eventually(given_up, what="the worker process to give the delivery up")
        assert len(peer.inbox_log) == posts_before
    finally:
        worker.terminate()
        assert await asyncio.wait_for(worker.wait(), timeout=30) == 0


async def test_a_command_never_contacts_a_server_another_command_suspended(
    spark: Spark, aiohttp_server, tmp_path: Path
) -> None:
    """A command's own process starts with no policy loaded: it loads it before WebFinger or a fetch."""
    requests: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        requests.append(request.path_qs)
        return web.Response(status=404)

    remote = web.Application()
    remote.router.add_route("*", "/{tail:.*}", anything)
    server = await aiohttp_server(remote)
    domain = f"127.0.0.1:{server.port}"
    await spark.user("alice")
    settings = _config_file(spark, tmp_path)
    await _command(settings, "domains", "block", domain, "--severity", "suspend")
    for handle in (f"carol@{domain}", f"http://{domain}/users/carol"):
        error = await _command(settings, "follow", "alice", handle, status=1)
        assert "suspended" in error
    assert requests == []
