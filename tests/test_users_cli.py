"""`spark-fed users create|list` against a real database file."""

import json
from pathlib import Path

import pytest

from spark_fed.cli import main


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "spark.toml"
    path.write_text(
        f'[server]\ndomain = "spark.test"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/db/s.db"\n'
    )
    return path


def run(config_file: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["--config", str(config_file), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_create_and_list(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        config_file, capsys, "users", "create", "alice", "--display-name", "Alice", "--bio", "hi"
    )
    assert status == 0
    assert out.splitlines()[-1] == "http://spark.test/users/alice"
    status, out, _ = run(config_file, capsys, "users", "create", "Bob_2", "--locked")
    assert status == 0
    status, out, _ = run(config_file, capsys, "users", "list", "--json")
    rows = json.loads(out)
    assert [(r["username"], r["handle"], r["display_name"], r["locked"]) for r in rows] == [
        ("alice", "alice@spark.test", "Alice", False),
        ("Bob_2", "Bob_2@spark.test", "", True),
    ]
    assert rows[0]["actor"] == "http://spark.test/users/alice"
    assert rows[0]["created_at"].endswith("Z")
    status, out, _ = run(config_file, capsys, "users", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["HANDLE", "DISPLAY_NAME", "LOCKED", "APPROVED", "CREATED_AT"]
    assert lines[1].startswith("alice@spark.test")
    assert len(lines) == 3


@pytest.mark.parametrize(
    "name", ["bad name", "", "a" * 31, "dé", "al-ice", "al.ice", "instance.actor", "alice@host"]
)
def test_bad_names_exit_2(config_file: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    status, _out, err = run(config_file, capsys, "users", "create", name)
    assert status == 2
    assert err.startswith("spark-fed: invalid username") and err.count("\n") == 1


def test_taken_case_insensitively(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, capsys, "users", "create", "alice")[0] == 0
    status, _, err = run(config_file, capsys, "users", "create", "ALICE")
    assert status == 2
    assert err == "spark-fed: username 'ALICE' is taken\n"
    status, out, _ = run(config_file, capsys, "users", "list", "--json")
    assert len(json.loads(out)) == 1


def test_thirty_characters_is_fine(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, capsys, "users", "create", "a" * 30)[0] == 0


def test_empty_list(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(config_file, capsys, "users", "list", "--json")
    assert status == 0 and json.loads(out) == []


def test_db_upgrade_is_idempotent(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, capsys, "users", "create", "alice")[0] == 0
    for _ in range(2):
        status, out, _ = run(config_file, capsys, "db", "upgrade")
        assert status == 0 and "up to date" in out
    status, out, _ = run(config_file, capsys, "users", "list", "--json")
    assert [r["username"] for r in json.loads(out)] == ["alice"]


def test_unwritable_database_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = tmp_path / "spark.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{blocker}/sub/s.db"\n')
    status = main(["--config", str(path), "users", "list"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("spark-fed: cannot create the database directory") and err.count("\n") == 1
