"""How long a `spark-fed` command that touches the database takes: `users list`, start to finish.

    python -m benchmarks.startup [--runs 10]

An operator types commands between other work, and scripts run them in loops: a command's
cost is mostly the interpreter starting and importing what the command needs. The program
times `spark-fed users list` on a SQLite database at the current schema (a few users), each a
fresh process as a shell starts it, beside the ceilings of the same run: `python -c pass` (the
interpreter alone) and `python -c "import sqlalchemy"` (the database toolkit alone). It prints
the wall time (what a person waits for; other work on the machine stretches it) and the CPU
time (user + system of the process: what the command itself costs, and what holds up on a busy
machine), and which heavy libraries the command imported.

Gated: the median wall time under the limit (0.5 s), every run exiting 0 and listing the users.
"""

import argparse
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._spark import SparkServer, default_executable, machine_busy_ticks, run_benchmark

LIMIT_S = 0.5
"""The project's target: a command that touches the database finishes in under half a second."""

USERS = ("alice", "bob", "carol")
HEAVY = ("aiohttp", "alembic", "cryptography", "jinja2", "nh3", "PIL", "pyld", "linkify_it", "argon2")
"""Libraries `users list` has no use for: each one imported would cost its start-up time."""


def timed(command: list[str], runs: int) -> tuple[list[float], list[float], list[str]]:
    """Run COMMAND RUNS times; the wall and CPU seconds of each run and the first run's stdout."""
    walls: list[float] = []
    cpus: list[float] = []
    outputs: list[str] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise subprocess.SubprocessError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
        outputs.append(done.stdout)
    return walls, cpus, outputs


def line(label: str, walls: list[float], cpus: list[float], note: str = "") -> str:
    return (
        f"{label:<28} wall median {statistics.median(walls) * 1000:6.0f} ms  min {min(walls) * 1000:6.0f} ms"
        f"   CPU median {statistics.median(cpus) * 1000:5.0f} ms{note}"
    )


def imported_heavy(spark: SparkServer) -> list[str]:
    """The heavy libraries in sys.modules after `users list` ran in a fresh interpreter."""
    probe = (
        "import sys; from spark_fed.cli import main; "
        f"main(['--config', {str(spark.config_path)!r}, 'users', 'list']); "
        f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.splitlines()[-1].split() if done.stdout.strip() else []


def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    spark = SparkServer(workdir, executable=args.spark_fed)
    for name in USERS:
        spark.command("users", "create", name)  # the first one also creates the schema
    python = sys.executable
    busy_before = machine_busy_ticks()
    command = [str(spark.executable), "--config", str(spark.config_path), "users", "list"]
    walls, cpus, outputs = timed(command, args.runs)
    bare = timed([python, "-c", "pass"], args.runs)
    toolkit = timed([python, "-c", "import sqlalchemy"], args.runs)
    busy_after = machine_busy_ticks()
    heavy = imported_heavy(spark)

    print(line("spark-fed users list", walls, cpus, f"   (limit {LIMIT_S * 1000:.0f} ms wall)"))
    print(line("ceiling: python -c pass", bare[0], bare[1]))
    print(line("ceiling: import sqlalchemy", toolkit[0], toolkit[1]))
    print(f"heavy imports  {' '.join(heavy) or 'none'} (of {', '.join(HEAVY)})")
    busy, total = busy_after[0] - busy_before[0], busy_after[1] - busy_before[1]
    print(f"the machine was {100 * busy / max(total, 1):.0f} % busy during the runs")

    failures = []
    if statistics.median(walls) > LIMIT_S:
        failures.append(f"users list took {statistics.median(walls):.2f} s (median), over {LIMIT_S} s")
    if any(not all(f"{name}@" in out for name in USERS) for out in outputs):
        failures.append("a run did not list every user")
    return failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument(
        "--spark-fed",
        type=Path,
        default=default_executable(),
        help="the spark-fed to run (default: the venv's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, config)")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000:
        parser.error("--runs must be between 1 and 1000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("startup", args.keep, lambda w: run(args, w))


if __name__ == "__main__":
    sys.exit(main())
