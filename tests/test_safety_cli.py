"""`spark-fed block|unblock|mute|unmute|report|blocks|mutes`, as scripts drive them."""

import json
from pathlib import Path

import pytest

from tests.cli import CliRun, cli_runner


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    return cli_runner(tmp_path, capsys)


def test_block_mute_report_and_their_lists(run) -> None:
    for name in ("alice", "bob", "carol"):
        assert run("users", "create", name)[0] == 0
    status, out, err = run("block", "alice", "bob@spark.test")
    assert status == 0, err
    assert out.splitlines()[-1].startswith("http://spark.test/users/alice#blocks/")
    assert run("block", "alice", "@bob@spark.test")[0] == 0  # a duplicate: no-op
    status, out, _ = run("blocks", "alice", "--json")
    [row] = json.loads(out)
    assert row["handle"] == "bob@spark.test" and row["actor"] == "http://spark.test/users/bob"
    status, out, err = run("mute", "alice", "carol", "--duration", "2h", "--keep-notifications")
    assert status == 0, err
    [mute] = json.loads(run("mutes", "alice", "--json")[1])
    assert mute["handle"] == "carol@spark.test" and mute["notifications"] is False and mute["expires_at"]
    assert run("unmute", "alice", "carol")[0] == 0
    assert json.loads(run("mutes", "alice", "--json")[1]) == []
    assert run("unblock", "alice", "bob")[0] == 0
    assert json.loads(run("blocks", "alice", "--json")[1]) == []
    assert "(none)" in run("blocks", "alice")[1]

    status, out, err = run("post", "bob", "something")
    post = out.splitlines()[-1]
    status, out, err = run("report", "alice", "bob", "--post", post, "--comment", "hm", "--category", "spam")
    assert status == 0, err
    assert out.splitlines()[-1].isdigit()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("block", "alice", "alice"), "itself"),
        (("block", "alice", "nobody@spark.test"), "no local user"),
        (("block", "nobody", "alice"), "no local user"),
        (("mute", "alice", "bob", "--duration", "soon"), "duration"),
        (("report", "alice", "bob", "--post", "http://spark.test/users/bob/statuses/1"), "no post"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, args: tuple[str, ...], message: str) -> None:
    for name in ("alice", "bob"):
        assert run("users", "create", name)[0] == 0
    status, out, err = run(*args)
    assert status == 2, (out, err)
    assert message in err and len(err.strip().splitlines()) == 1
    assert json.loads(run("blocks", "alice", "--json")[1]) == []
