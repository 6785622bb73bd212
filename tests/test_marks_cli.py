"""`spark-fed bookmark|unbookmark|bookmarks|pin|unpin|pins`, as scripts drive them."""

import json
from pathlib import Path

import pytest

from tests.cli import CliRun, cli_runner


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    return cli_runner(tmp_path, capsys)


def _post(run, name: str, text: str, *more: str) -> str:
    status, out, err = run("post", name, text, *more)
    assert status == 0, err
    return out.splitlines()[-1]


def test_bookmarks_and_pins_from_the_command_line(run) -> None:
    for name in ("alice", "bob"):
        assert run("users", "create", name)[0] == 0
    first, second = _post(run, "alice", "first"), _post(run, "alice", "second")
    for url in (second, first, first):  # bookmarking twice is one bookmark
        status, out, err = run("bookmark", "bob", url)
        assert status == 0 and out.splitlines()[-1] == url, err
    status, out, _ = run("bookmarks", "bob", "--json")
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [first, second] and rows[0]["author"] == "alice@spark.test"
    assert run("unbookmark", "bob", first)[0] == 0
    assert [r["id"] for r in json.loads(run("bookmarks", "bob", "--json")[1])] == [second]
    assert "second" in run("bookmarks", "bob")[1]  # the table
    assert run("pin", "alice", first)[0] == 0
    assert [r["id"] for r in json.loads(run("pins", "alice", "--json")[1])] == [first]
    assert run("unpin", "alice", first)[0] == 0
    assert json.loads(run("pins", "alice", "--json")[1]) == []


def test_bad_input_is_one_line_and_exit_2(run) -> None:
    for name in ("alice", "bob"):
        assert run("users", "create", name)[0] == 0
    alices = _post(run, "alice", "alice's")
    secret = _post(run, "alice", "followers only", "--visibility", "followers")
    for args, message in (
        (("pin", "bob", alices), "own"),
        (("bookmark", "bob", secret), "no post"),
        (("bookmark", "bob", "http://spark.test/users/alice/statuses/1"), "no post"),
    ):
        status, _, err = run(*args)
        assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err
    for n in range(5):
        assert run("pin", "alice", _post(run, "alice", f"pin {n}"))[0] == 0
    status, _, err = run("pin", "alice", alices)
    assert status == 2 and "maximum" in err
    assert json.loads(run("bookmarks", "bob", "--json")[1]) == []
