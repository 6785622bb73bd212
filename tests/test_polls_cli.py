"""`spark-fed post --poll`: a poll from the command line, and its refusals."""

import json
from pathlib import Path

import pytest

from tests.cli import CliRun, cli_runner


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    return cli_runner(tmp_path, capsys)


def test_post_a_poll(run) -> None:
    assert run("users", "create", "alice")[0] == 0
    status, out, err = run(
        "post", "alice", "Lunch?", "--poll", "Soup", "--poll", "Salad", "--poll-multiple", "--json"
    )
    assert status == 0, err
    question = json.loads("\n".join(out.splitlines()[:-1]))
    assert question["type"] == "Question" and [o["name"] for o in question["anyOf"]] == ["Soup", "Salad"]
    assert question["id"] == out.splitlines()[-1]


def test_a_bad_poll_is_refused(run) -> None:
    assert run("users", "create", "alice")[0] == 0
    status, _out, err = run("post", "alice", "One?", "--poll", "Only")
    assert status == 2 and "at least 2 options" in err
    status, _out, err = run("post", "alice", "Soon?", "--poll", "A", "--poll", "B", "--poll-expires", "10")
    assert status == 2 and "between" in err
    assert run("timeline", "alice", "--json")[1].strip() == "[]"
