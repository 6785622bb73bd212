"""`spark-fed post --quote`: the same quoting service the API and the web call."""

import json
from pathlib import Path

import pytest

from tests.cli import CliRun, cli_runner


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    return cli_runner(tmp_path, capsys)


def test_post_a_quote_and_a_refused_one(run) -> None:
    for name in ("alice", "bob"):
        assert run("users", "create", name)[0] == 0
    status, out, err = run("post", "alice", "quotable", "--quote-policy", "public")
    assert status == 0, err
    open_post = out.splitlines()[-1]
    status, out, err = run("post", "alice", "mine alone", "--quote-policy", "nobody")
    closed_post = out.splitlines()[-1]
    status, out, err = run("post", "bob", "look", "--quote", open_post, "--json")
    assert status == 0, err
    document = json.loads("\n".join(out.splitlines()[:-1]))
    assert document["quote"] == document["_misskey_quote"] == document["quoteUri"] == open_post
    assert document["quoteAuthorization"].startswith("http://spark.test/users/alice/quote_authorizations/")
    status, _, err = run("post", "bob", "nope", "--quote", closed_post)
    assert status == 2 and "does not allow" in err
