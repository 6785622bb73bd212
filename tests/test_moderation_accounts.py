"""Account actions and reports: a suspended local account (410, no sign-in, Delete to the peer
follower, purged after the grace period), roles, silence, and an incoming Flag handled by the
`spark-fed reports` commands."""

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import select

from outbox import moderation, posts
from spark_fed.cli import main
from spark_fed.errors import UsageError
from spark_fed.models import Account, ModerationAction, Report, Status, User
from spark_fed.passwords import hash_password
from spark_fed.queries.moderation import list_reports, moderation_log, report_details
from spark_fed.signin import SUSPENDED, BadCredentials, SignInGuard, sign_in

from .conftest import CHEAP_PASSWORDS, Spark, eventually
from .peers import FakeMastodon

AS2 = {"Accept": "application/activity+json"}
PASSWORD = "correct horse battery staple"


async def _get(url: str) -> int:
    async with aiohttp.ClientSession() as client, client.get(url, headers=AS2, allow_redirects=False) as got:
        return got.status


async def test_suspended_local_account(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice", password_hash=await hash_password(CHEAP_PASSWORDS, PASSWORD))
    assert (await peer.follow_remote("bob", alice.uri)).status == 202
    await peer.wait_for(lambda r: r.type == "Accept")
    status = await posts.post(spark.ctx, alice, "soon gone")
    await peer.wait_for(lambda r: r.type == "Create")
    assert await _get(alice.uri) == 200

    await moderation.suspend(spark.ctx, None, alice, reason="spam")
    for url in (alice.uri, status.uri, f"{alice.uri}/outbox", f"{alice.uri}/followers"):
        assert await _get(url) == 410, url
    with pytest.raises(BadCredentials) as refused:
        await sign_in(spark.ctx, SignInGuard(), "127.0.0.1", "alice", PASSWORD)
    assert str(refused.value) == SUSPENDED

    delete = await peer.wait_for(lambda r: r.type == "Delete", timeout=10.0)
    assert delete.verified, delete.error
    assert delete.json["actor"] == alice.uri
    assert delete.json["object"] == alice.uri
    assert delete.json["to"] == ["https://www.w3.org/ns/activitystreams#Public"]

    async with spark.db.read() as session:
        log = await moderation_log(session, alice.id)
    assert [(a.action, a.reason, a.moderator_id) for a in log] == [("suspend", "spam", None)]

    # Within the grace period the data stays (an unsuspend restores the account) ...
    assert await moderation.purge_suspended(spark.ctx) == 0
    await moderation.unsuspend(spark.ctx, None, alice)
    assert await _get(alice.uri) == 200
    assert await _get(status.uri) == 200
    account = await sign_in(spark.ctx, SignInGuard(), "127.0.0.1", "alice", PASSWORD)
    assert account.id == alice.id
    # ... after it, the posts go and answer 410; the name stays taken.
    await moderation.suspend(spark.ctx, None, alice)
    assert await moderation.purge_suspended(spark.ctx, older_than=timedelta(0)) == 1
    async with spark.db.read() as session:
        count = (await session.exec(select(func.count()).select_from(Status))).one()
        assert count == 0
        assert await session.get(Account, alice.id) is not None
    await moderation.unsuspend(spark.ctx, None, alice)
    assert await _get(status.uri) == 410


async def test_roles_and_who_may_moderate(spark: Spark) -> None:
    alice = await spark.user("alice")
    bob = await spark.user("bob")
    with pytest.raises(UsageError):
        await moderation.set_role(spark.ctx, alice, "overlord")
    with pytest.raises(moderation.NotModerator):
        await moderation.silence(spark.ctx, alice, bob)
    await moderation.set_role(spark.ctx, alice, "moderator")
    assert await moderation.is_moderator(spark.ctx, alice)
    await moderation.silence(spark.ctx, alice, bob, reason="loud")
    async with spark.db.read() as session:
        assert (await session.get(Account, bob.id)).silenced_at is not None
        assert (await session.get(User, alice.id)).role == "moderator"
    with pytest.raises(UsageError):
        await moderation.suspend(spark.ctx, alice, alice)
    await moderation.unsilence(spark.ctx, alice, bob)
    async with spark.db.read() as session:
        assert (await session.get(Account, bob.id)).silenced_at is None
        actions = [a.action for a in await moderation_log(session, bob.id)]
    assert actions == ["unsilence", "silence"]
    await moderation.set_role(spark.ctx, alice, "user")
    assert not await moderation.is_moderator(spark.ctx, alice)


def _config_file(spark: Spark, tmp_path: Path) -> Path:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'[server]\ndomain = "{spark.domain}"\n'
        f'[database]\nurl = "{spark.config.database.url}"\n'
        f'[media]\npath = "{tmp_path / "media"}"\n',
        encoding="utf-8",
    )
    return path


async def _cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    # The command runs its own event loop: in a thread, never on the test's loop (docs/decisions.md).
    status = await asyncio.to_thread(main, ["--config", str(config), *args])
    out, err = capsys.readouterr()
    return status, out, err


async def test_incoming_flag_listed_and_resolved_by_cli(
    spark: Spark, aiohttp_server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    status = await posts.post(spark.ctx, alice, "a reported post")
    flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.origin}/{uuid.uuid4()}",
        "type": "Flag",
        "actor": peer.instance_actor_id,
        "content": "This is spam",
        "object": [alice.uri, status.uri],
    }
    assert (await peer.send(flag, f"{spark.base}/inbox", None)).status == 202

    async def reported() -> list[Report]:
        async with spark.db.read() as session:
            return await list_reports(session)

    (report,) = await eventually(reported, what="the Flag to become a report")
    config = _config_file(spark, tmp_path)
    code, out, _ = await _cli(config, capsys, "reports", "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["id"] == report.id
    assert row["target"] == f"alice@{spark.domain}"
    assert row["comment"] == "This is spam"
    assert row["status_ids"] == [status.id]
    assert row["resolved"] is False

    code, out, _ = await _cli(config, capsys, "reports", "show", str(report.id), "--json")
    assert code == 0
    assert [s["uri"] for s in json.loads(out)["statuses"]] == [status.uri]

    code, out, _ = await _cli(config, capsys, "reports", "resolve", str(report.id), "--note", "warned")
    assert code == 0
    code, out, _ = await _cli(config, capsys, "reports", "list", "--json")
    assert json.loads(out) == []
    code, out, _ = await _cli(config, capsys, "reports", "list", "--json", "--all")
    (row,) = json.loads(out)
    assert row["resolved"] is True
    assert row["resolution"] == "warned"
    async with spark.db.read() as session:
        details = await report_details(session, report.id)
        logged = (await session.exec(select(ModerationAction))).all()
    assert details.target.id == alice.id
    assert [(a.action, a.report_id) for a in logged] == [("resolve_report", report.id)]

    code, _, err = await _cli(config, capsys, "reports", "show", "999999")
    assert code == 2
    assert err.count("\n") == 1


async def test_cli_roles_domains_and_account_actions(
    spark: Spark, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await spark.user("alice")
    config = _config_file(spark, tmp_path)
    assert (await _cli(config, capsys, "users", "set-role", "alice", "admin"))[0] == 0
    async with spark.db.read() as session:
        assert (await session.exec(select(User.role))).one() == "admin"
    code, _, err = await _cli(config, capsys, "users", "set-role", "nobody", "admin")
    assert code == 2
    assert "nobody" in err

    code, out, _ = await _cli(
        config,
        capsys,
        "domains",
        "block",
        "spam.example",
        "--severity",
        "suspend",
        "--public-comment",
        "spam",
    )
    assert code == 0
    csv_file = tmp_path / "blocks.csv"
    csv_file.write_text(
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "loud.example,silence,false,false,,false\n",
        encoding="utf-8",
    )
    assert (await _cli(config, capsys, "domains", "import", str(csv_file)))[0] == 0
    code, out, _ = await _cli(config, capsys, "domains", "list", "--json")
    assert [(r["domain"], r["severity"]) for r in json.loads(out)] == [
        ("loud.example", "silence"),
        ("spam.example", "suspend"),
    ]
    assert (await _cli(config, capsys, "domains", "unblock", "loud.example"))[0] == 0
    assert (await _cli(config, capsys, "domains", "unblock", "loud.example"))[0] == 2
    assert (await _cli(config, capsys, "domains", "block", "not a host"))[0] == 2

    assert (await _cli(config, capsys, "moderation", "silence", "alice", "--reason", "x"))[0] == 0
    assert (await _cli(config, capsys, "moderation", "suspend", f"@alice@{spark.domain}"))[0] == 0
    async with spark.db.read() as session:
        alice = (await session.exec(select(Account).where(Account.username == "alice"))).one()
    assert alice.silenced_at is not None and alice.suspended_at is not None
    assert (await _cli(config, capsys, "moderation", "unsuspend", "alice"))[0] == 0
    assert (await _cli(config, capsys, "moderation", "unsilence", "alice"))[0] == 0
    assert (await _cli(config, capsys, "moderation", "suspend", "ghost"))[0] == 2
