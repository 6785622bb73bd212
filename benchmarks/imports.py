"""Importing a Twitter/X archive of 10,000 tweets, beside a plain parse of the same tweets.js.

    python -m benchmarks.imports [--tweets N] [--keep]

The archive is generated in the real format (`window.YTD.tweets.part0 = [...]` in
data/tweets.js, with data/account.js and data/profile.js): tweets with links, hashtags and
mentions in their entities, one in ten a reply in a thread of one's own, one in twenty a retweet.
No pictures: the issue's figure is for text. The import runs as a user would run it, as the
`spark-fed import twitter NAME ARCHIVE.zip --json` command against a fresh SQLite database, and its
wall time and peak resident memory (the child's ru_maxrss) are printed beside the ceiling measured
in the same run: reading the same tweets.js and json-parsing it in this process. Gated: the
import of N tweets within 60 s, every own tweet imported, and a second run importing nothing.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ._spark import default_executable, run_benchmark

LIMIT_SECONDS = 60.0
WORDS = [
    "the", "of", "and", "to", "in", "is", "for", "on", "with", "as", "at", "by", "from", "about",
    "fediverse", "spark", "garden", "bread", "code",
]  # fmt: skip


def tweet(n: int, rng: random.Random, start: datetime) -> dict:
    created = start + timedelta(minutes=37 * n)
    text_words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
    entities: dict = {"hashtags": [], "urls": [], "user_mentions": []}
    if n % 3 == 0:
        short = f"https://t.co/x{n:07d}"
        text_words.append(short)
        entities["urls"].append(
            {
                "url": short,
                "expanded_url": f"https://example.com/post/{n}",
                "display_url": f"example.com/post/{n}",
            }
        )
    if n % 4 == 0:
        text_words.append("#spark")
        entities["hashtags"].append({"text": "spark"})
    if n % 5 == 0:
        text_words.insert(0, "@friend")
        entities["user_mentions"].append({"screen_name": "friend", "id_str": "42"})
    body: dict = {
        "id_str": str(1_000_000_000 + n),
        "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "full_text": " ".join(text_words),
        "entities": entities,
        "retweeted": False,
    }
    if n % 10 == 9:
        body["in_reply_to_status_id_str"] = str(1_000_000_000 + n - 1)
        body["in_reply_to_screen_name"] = "bench"
        body["in_reply_to_user_id_str"] = "1"
    if n % 20 == 7:
        body["full_text"] = "RT @other: " + body["full_text"]
        body["retweeted_status"] = {"id_str": "5"}
    return {"tweet": body}


def build_archive(path: Path, count: int) -> tuple[bytes, int]:
    rng = random.Random(12)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    tweets = [tweet(n, rng, start) for n in range(count)]
    retweets = sum(1 for t in tweets if t["tweet"]["full_text"].startswith("RT @"))
    tweets_js = ("window.YTD.tweets.part0 = " + json.dumps(tweets, indent=1)).encode()
    account = [{"account": {"username": "bench", "accountId": "1", "accountDisplayName": "Bench"}}]
    profile = [{"profile": {"description": {"bio": "A benchmark."}}}]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/tweets.js", tweets_js)
        archive.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps(account))
        archive.writestr("data/profile.js", "window.YTD.profile.part0 = " + json.dumps(profile))
    return tweets_js, count - retweets


def plain_parse(tweets_js: bytes) -> tuple[float, int]:
    """The ceiling: what reading the tweets costs with nothing stored."""
    started = time.perf_counter()
    text = tweets_js.decode()
    items = json.loads(text[text.index("[") :])
    kept = sum(1 for item in items if not item["tweet"]["full_text"].startswith("RT @"))
    return time.perf_counter() - started, kept


def spark(executable: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(executable), "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def body(workdir: Path, count: int, executable: Path) -> list[str]:
    failures: list[str] = []
    config = workdir / "spark.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{workdir}/spark.db"\n[media]\npath = "{workdir}/media"\n'
    )
    archive = workdir / "archive.zip"
    tweets_js, own = build_archive(archive, count)
    size = archive.stat().st_size / 1e6
    print(f"archive        {count:,} tweets ({own:,} own, {count - own:,} retweets), {size:.1f} MB zip")
    created = spark(executable, config, "users", "create", "bench")
    if created.returncode != 0:
        return [f"users create failed: {created.stderr.strip()}"]
    ceiling_s, kept = plain_parse(tweets_js)
    started = time.perf_counter()
    done = spark(executable, config, "import", "twitter", "bench", str(archive), "--json")
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        return [f"import failed: {done.stderr.strip()}"]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rate = count / seconds
    print(f"import         {seconds:.1f} s, {rate:,.0f} tweets/s, peak RSS {peak_mib:.0f} MiB (the command)")
    ceiling = count / ceiling_s
    print(
        f"ceiling        {ceiling_s * 1000:.0f} ms to read and parse tweets.js here: {ceiling:,.0f} tweets/s"
    )
    counts = json.dumps({k: v for k, v in summary.items() if k != "errors"})
    print(f"summary        {counts}, errors {len(summary['errors'])}")
    if seconds > LIMIT_SECONDS:
        failures.append(f"{count:,} tweets took {seconds:.1f} s (limit {LIMIT_SECONDS:.0f} s)")
    if summary["imported"] != own or kept != own or summary["errors"]:
        failures.append(f"imported {summary['imported']} of {own} own tweets, errors {summary['errors'][:3]}")
    again = spark(executable, config, "import", "twitter", "bench", str(archive), "--json")
    repeat = json.loads(again.stdout.strip().splitlines()[-1]) if again.returncode == 0 else {}
    print(
        f"again          imported {repeat.get('imported')}, already imported {repeat.get('already_imported')}"
    )
    if repeat.get("imported") != 0:
        failures.append(f"a second run imported {repeat.get('imported')}")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    executable = default_executable()
    return run_benchmark("imports", args.keep, lambda workdir: body(workdir, args.tweets, executable))


if __name__ == "__main__":
    sys.exit(main())
