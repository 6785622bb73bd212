"""The posting and reading commands, in-process, on one server's database."""

import json
from pathlib import Path

import pytest

from tests.cli import CliRun, cli_runner


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    return cli_runner(tmp_path, capsys)


def test_post_timeline_and_notifications(run) -> None:
    for name in ("alice", "bob", "carol"):
        assert run("users", "create", name)[0] == 0
    assert run("follow", "alice", "bob@spark.test")[0] == 0
    assert run("follow", "carol", "alice@spark.test")[0] == 0
    status, out, err = run("post", "bob", "Hello @alice and #everyone\n\nsecond line", "--cw", "hi")
    assert status == 0, err
    first = out.splitlines()[-1]
    assert first.startswith("http://spark.test/users/bob/statuses/")
    status, out, err = run("post", "bob", "a reply", "--reply-to", first, "--json")
    assert status == 0, err
    reply_id = out.splitlines()[-1]
    document = json.loads("\n".join(out.splitlines()[:-1]))
    assert document["inReplyTo"] == first and document["id"] == reply_id
    assert run("like", "alice", first)[0] == 0
    status, out, _ = run("boost", "alice", first)
    assert status == 0 and out.strip().endswith("/activity")

    status, out, _ = run("timeline", "alice", "--json")
    items = json.loads(out)
    # Shown once: a boost of a post the feed already holds is not added to it (as in Mastodon).
    assert [i["id"] for i in items] == [reply_id, first]
    reply, post = items
    assert reply["in_reply_to"] == first
    status, out, _ = run("timeline", "carol", "--json")
    [boost] = json.loads(out)  # carol follows alice, not bob: the boost brings bob's post
    assert boost["id"] == first and boost["boosted_by"] == "alice@spark.test"
    assert post["author"] == "bob@spark.test" and post["visibility"] == "public"
    assert post["summary"] == "hi"
    assert "<p>Hello" in post["content"] and 'class="u-url mention"' in post["content"]
    assert post["published"].endswith("Z")
    assert (post["likes"], post["boosts"], post["replies"]) == (1, 1, 1)

    status, out, _ = run("notifications", "bob", "--json")
    kinds = [(n["type"], n["account"]) for n in json.loads(out)]
    assert kinds == [
        ("reblog", "alice@spark.test"),
        ("favourite", "alice@spark.test"),
        ("follow", "alice@spark.test"),
    ]
    status, out, _ = run("notifications", "alice", "--json")
    assert [(n["type"], n["status"]) for n in json.loads(out)] == [("mention", first), ("follow", None)]

    status, out, _ = run("timeline", "alice", "--kind", "mentions", "--json")
    assert [i["id"] for i in json.loads(out)] == [first]
    status, out, _ = run("timeline", "alice", "--kind", "local", "--limit", "1", "--json")
    assert [i["id"] for i in json.loads(out)] == [reply_id]

    assert run("edit", "bob", first, "Hello again")[0] == 0
    status, out, _ = run("notifications", "alice", "--json")
    newest = json.loads(out)[0]
    assert (newest["type"], newest["status"]) == ("update", first)
    status, out, _ = run("timeline", "bob", "--json")
    edited = next(i for i in json.loads(out) if i["id"] == first)
    assert "Hello again" in edited["content"] and edited["edited"]
    assert run("unboost", "alice", first)[0] == 0
    assert run("unlike", "alice", first)[0] == 0
    assert run("delete", "bob", first)[0] == 0
    status, out, _ = run("timeline", "alice", "--json")
    assert [i["id"] for i in json.loads(out)] == [reply_id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("post", "alice", ""), "a post needs some text"),
        (("post", "alice", "x" * 501), "at most 500 characters"),
        (("delete", "alice", "http://spark.test/users/alice/statuses/1"), "has no post at"),
        (("like", "alice", "http://spark.test/users/alice/statuses/1"), "no post at"),
        (("post", "nobody", "hi"), "there is no local user 'nobody'"),
    ],
)
def test_post_command_errors(run, args: tuple[str, ...], message: str) -> None:
    assert run("users", "create", "alice")[0] == 0
    status, _, err = run(*args)
    assert status == 2, err
    assert message in err and err.count("\n") == 1
