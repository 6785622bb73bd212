"""The follow commands as an admin runs them: separate processes beside running servers."""

import asyncio
import json
import sys
from pathlib import Path

from sqlmodel import select

from spark_fed.cli import main
from spark_fed.models import Follow

from .conftest import Spark, eventually

SCRIPT = str(Path(sys.executable).parent / "spark-fed")


def _config_file(spark: Spark, directory: Path) -> Path:
    server, federation = spark.config.server, spark.config.federation
    path = directory / f"{server.port}.toml"
    path.write_text(
        f'[server]\ndomain = "{server.domain}"\nscheme = "{server.scheme}"\nport = {server.port}\n'
        f'[database]\nurl = "{spark.config.database.url}"\n'
        f"[federation]\nallow_private_addresses = {str(federation.allow_private_addresses).lower()}\n"
    )
    return path


async def _run(config: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        SCRIPT, "--config", str(config), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


async def _states(config: Path, command: str, name: str) -> list[dict]:
    status, out, err = await _run(config, *command.split(), name, "--json")
    assert status == 0, err
    return json.loads(out)


async def test_follow_commands_between_two_servers(start_spark, tmp_path: Path) -> None:
    a, b = await start_spark(), await start_spark()
    await a.user("alice")
    bob = await b.user("bob", locked=True)
    config_a, config_b = _config_file(a, tmp_path), _config_file(b, tmp_path)

    status, out, err = await _run(config_a, "follow", "alice", f"@bob@{b.domain}")
    assert status == 0, err
    follow_id = out.splitlines()[-1]
    assert follow_id.startswith(f"{a.base}/users/alice#follows/")

    await eventually(lambda: _pending_on(b), what="the Follow to reach the locked account")
    [request] = await _states(config_b, "follow-requests list", "bob")
    assert request == {
        "handle": f"alice@{a.domain}",
        "actor": f"{a.base}/users/alice",
        "state": "pending",
        "since": request["since"],
    }
    [following] = await _states(config_a, "following", "alice")
    assert (following["handle"], following["actor"], following["state"]) == (
        f"bob@{b.domain}",
        bob.uri,
        "pending",
    )

    status, _, err = await _run(config_b, "follow-requests", "accept", "bob", f"alice@{a.domain}")
    assert status == 0, err

    async def accepted() -> bool:
        return (await _states(config_a, "following", "alice"))[0]["state"] == "accepted"

    await eventually(accepted, timeout=20, what="the Accept to reach alice's server")
    [follower] = await _states(config_b, "followers", "bob")
    assert follower["state"] == "accepted"
    status, out, _ = await _run(config_b, "followers", "bob")
    assert out.splitlines()[0].split() == ["HANDLE", "STATE", "SINCE"]

    status, _, err = await _run(config_a, "unfollow", "alice", bob.uri)
    assert status == 0, err
    assert await _states(config_a, "following", "alice") == []

    async def gone() -> bool:
        return await _states(config_b, "followers", "bob") == []

    await eventually(gone, timeout=20, what="the Undo to reach bob's server")


async def _pending_on(spark: Spark) -> bool:
    async with spark.db.read() as session:
        return (await session.exec(select(Follow))).first() is not None


def test_follow_command_errors(tmp_path: Path, capsys) -> None:
    """In-process, one line and the right exit status for each mistake."""
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "127.0.0.1:9"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/s.db"\n'
        "[federation]\nallow_private_addresses = true\n"
    )
    assert main(["--config", str(config), "users", "create", "alice"]) == 0
    cases = [
        (("follow", "nobody", "bob@example.com"), 2, "there is no local user 'nobody'"),
        (("follow", "alice", "not a handle"), 2, "is not a handle like user@example.com"),
        (("follow", "alice", "alice@127.0.0.1:9"), 2, "cannot follow itself"),
        (("unfollow", "alice", "carol@127.0.0.1:9"), 2, "there is no local user 'carol'"),
        (("follow-requests", "accept", "alice", "alice@127.0.0.1:9"), 2, "no pending follow request"),
        (("follow", "alice", "bob@127.0.0.1:1"), 1, "WebFinger of bob@127.0.0.1:1 failed"),
    ]
    capsys.readouterr()
    for args, expected_status, message in cases:
        status = main(["--config", str(config), *args])
        err = capsys.readouterr().err
        assert status == expected_status, (args, err)
        assert message in err, (args, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
