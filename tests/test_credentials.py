"""Passwords and API tokens for local accounts, from the command line."""

import asyncio
import io
import json
from pathlib import Path

import pytest

from spark_fed.cli import main
from spark_fed.config import load_config
from spark_fed.context import open_context
from spark_fed.models import User
from spark_fed.passwords import verify_password
from spark_fed.queries.accounts import find_local_user
from spark_fed.tokens import allows, find_token, parse_scopes, revoke_token


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "spark.toml"
    path.write_text(
        f'[server]\ndomain = "spark.test"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/s.db"\n'
        "[auth]\npassword_memory_kib = 64\npassword_time_cost = 1\n"
    )
    return path


def run(config_file: Path, capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(["--config", str(config_file), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_password_email_and_token(config_file: Path, capsys, monkeypatch) -> None:
    status, _, err = run(
        config_file, capsys, monkeypatch, "users", "create", "alice", "--email", "Alice@Example.com",
        "--password-stdin", stdin="correct horse battery\n",
    )  # fmt: skip
    assert status == 0, err
    status, _, err = run(
        config_file, capsys, monkeypatch, "users", "create", "bob", "--email", "alice@example.com"
    )
    assert status == 2 and "e-mail 'alice@example.com' is taken" in err
    status, _, err = run(
        config_file, capsys, monkeypatch, "users", "create", "carol", "--email", "not-an-address"
    )
    assert status == 2 and "is not an e-mail address" in err
    status, _, err = run(config_file, capsys, monkeypatch, "users", "set-password", "alice", stdin="short\n")
    assert status == 2 and "at least 8 characters" in err
    status, out, err = run(
        config_file, capsys, monkeypatch, "tokens", "create", "alice", "--scopes", "read write:statuses"
    )
    assert status == 0, err
    token = out.splitlines()[-1]
    status, _, err = run(config_file, capsys, monkeypatch, "tokens", "create", "alice", "--scopes", "root")
    assert status == 2 and "unknown scope 'root'" in err
    assert (
        run(
            config_file, capsys, monkeypatch, "users", "set-password", "alice", stdin="a new long password\n"
        )[0]
        == 0
    )

    async def check() -> None:
        config = load_config(config_file)
        async with open_context(config) as ctx:
            async with ctx.db.read() as session:
                alice = await find_local_user(session, "alice")
                user = await session.get(User, alice.id)
            assert user.email == "alice@example.com"
            assert user.password_hash.startswith("$argon2id$")
            assert await verify_password(config.auth, user.password_hash, "a new long password")
            assert not await verify_password(config.auth, user.password_hash, "correct horse battery")
            bearer = await find_token(ctx.db, token)
            assert bearer.account.id == alice.id and bearer.scopes == ["read", "write:statuses"]
            await revoke_token(ctx.db, token)
            assert await find_token(ctx.db, token) is None
            assert await find_token(ctx.db, "not a token") is None

    asyncio.run(check())


def test_scopes() -> None:
    assert parse_scopes(None) == ["read", "write", "follow"]
    assert parse_scopes("read+write") == ["read", "write"]
    assert allows(["read"], "read:statuses")
    assert not allows(["read:accounts"], "read:statuses")
    assert allows(["follow"], "write:follows")
    assert not allows(["write:statuses"], "write:follows")
    assert json.dumps(parse_scopes("push profile")) == '["push", "profile"]'
