"""Resident memory of an idle `spark-fed serve`, beside the project's limit of 60 MiB.

    python -m benchmarks.memory

Spark is meant to run on a small VPS beside other services, so what an operator pays is the
server process's resident set (VmRSS in /proc/PID/status), measured from outside on a real
process: an empty SQLite database in a temp dir, first after ~3 s idle (start-up done, workers
polling), then again after 200 simple GETs (WebFinger, the instance actor, NodeInfo), so that
lazily imported code and the first allocations of the request path are counted too.

Only 127.0.0.1 is contacted; every wait has a deadline.
"""

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ._spark import SparkError, SparkServer, default_executable, run_benchmark

LIMIT_MIB = 60.0
"""The project's decision: an idle server stays under 60 MiB resident (it was 80 at first)."""

REQUEST_TIMEOUT = 5.0


def mib(kib: int) -> float:
    return kib / 1024


def simple_gets(spark: SparkServer, count: int) -> Counter[int]:
    """COUNT GETs over the cheap public endpoints, round-robin; the statuses they got.

    The database is empty (no users), so WebFinger asks for the instance actor, which
    every Spark has; all of these must answer 200.
    """
    domain = spark.domain
    paths = [
        (f"/.well-known/webfinger?resource=acct:{domain}@{domain}", "application/jrd+json"),
        ("/actor", "application/activity+json"),
        ("/.well-known/nodeinfo", "application/json"),
        ("/nodeinfo/2.1", "application/json"),
    ]
    statuses: Counter[int] = Counter()
    for i in range(count):
        path, accept = paths[i % len(paths)]
        request = urllib.request.Request(spark.base_url + path, headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                response.read()
                statuses[response.status] += 1
        except urllib.error.HTTPError as exc:
            statuses[exc.code] += 1
    return statuses


LIBRARIES = ("uvloop", "aiohttp.web", "sqlmodel", "sqlalchemy.ext.asyncio", "aiosqlite")
"""What every Spark server imports whatever it does: the floor under Spark's own code."""


def floor_kib(modules: Sequence[str]) -> int:
    """VmRSS of a fresh `python -OO` (as `serve` runs) that imported MODULES and nothing else."""
    probe = (
        f"import {', '.join(modules)}\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')))"
    )
    done = subprocess.run(
        [sys.executable, "-OO", "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return int(done.stdout.split()[-1])


def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Start, measure, stop; returns the failed checks."""
    spark = SparkServer(workdir, executable=args.spark_fed)
    failures: list[str] = []
    try:
        startup = spark.start()
        print(f"spark          {spark.base_url} pid {spark.pid}, up in {startup:.1f} s (empty SQLite)")
        time.sleep(args.idle)
        idle_rss = spark.status_kib("VmRSS")
        statuses = simple_gets(spark, args.requests)
        time.sleep(0.5)  # let the access log and any deferred work settle
        after_rss = spark.status_kib("VmRSS")
        peak = spark.status_kib("VmHWM")
        threads = spark.threads()
    finally:
        try:
            exit_status: int | None = spark.stop()
        except SparkError as exc:
            failures.append(str(exc))
            exit_status = None

    print(f"idle           VmRSS {mib(idle_rss):6.1f} MiB after {args.idle:g} s   (limit {LIMIT_MIB:g} MiB)")
    print(
        f"after GETs     VmRSS {mib(after_rss):6.1f} MiB after {args.requests} GETs "
        f"  (limit {LIMIT_MIB:g} MiB)"
    )
    print(f"peak           VmHWM {mib(peak):6.1f} MiB; {threads} threads")
    print(f"floor          VmRSS {mib(floor_kib(['sys'])):6.1f} MiB: python -OO alone")
    libraries = ", ".join(LIBRARIES)
    print(f"floor          VmRSS {mib(floor_kib(LIBRARIES)):6.1f} MiB: python -OO importing {libraries}")
    breakdown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    print(f"GET statuses   {breakdown}")
    print(f"server exit    {exit_status} after SIGTERM")

    if set(statuses) != {200}:
        failures.append(f"not every GET answered 200 ({breakdown})")
    for label, kib in (("idle", idle_rss), ("after GETs", after_rss)):
        if mib(kib) > LIMIT_MIB:
            failures.append(f"{label}: {mib(kib):.1f} MiB is over the limit of {LIMIT_MIB:g} MiB")
    if exit_status != 0:
        failures.append(f"serve exited {exit_status} after SIGTERM")
    if "Traceback" in spark.log_text():
        failures.append("the server log has a traceback")
    return failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before the first reading")
    parser.add_argument("--requests", type=int, default=200, help="GETs before the second reading")
    parser.add_argument(
        "--spark-fed",
        type=Path,
        default=default_executable(),
        help="the spark-fed to run (default: the venv's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    args = parser.parse_args(argv)
    if not 0 <= args.idle <= 600 or args.requests < 0:
        parser.error("--idle must be between 0 and 600 and --requests not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("memory", args.keep, lambda w: run(args, w))


if __name__ == "__main__":
    sys.exit(main())
