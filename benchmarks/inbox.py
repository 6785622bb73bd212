"""Inbox throughput: how many signed activities per second a real Spark accepts (202) and stores.

    python -m benchmarks.inbox [--n 5000] [--concurrency 50] [--actors 20]

What it does, and why each part is there:

* Spark runs as `spark-fed serve` in its own process on SQLite in a temp dir, exactly as an admin
  starts it, so the figure includes the access log, the group-commit intake and the inbox worker
  that processes what was stored (they share Spark's one event loop and its CPU).
* The remote actors are served by a tiny aiohttp server in this process, with their own RSA-2048
  keys, and every POST is signed here with `cryptography` directly (draft-cavage, Mastodon's
  header list). Nothing of Spark's signing code is used: a bug shared by signer and verifier
  would otherwise pass unnoticed, and the benchmark must cost what a real peer costs.
* All signing happens before the clock starts (a Date is valid for an hour), so the load
  generator spends its CPU on HTTP only; it still shares the machine's cores with Spark, which
  is why the CPU each side used is printed.
* Beside the figure stands the ceiling of one core doing nothing but what an inbox cannot avoid
  (RSA-2048 verify + `json.loads` of the same bodies), measured in the same run on the same machine.
* 202 must mean "durably stored": the rows in `inbox_items` are counted with `sqlite3` while the
  server still runs, and must equal the number of 202s.

Every wait has a deadline and every loop ends by itself; traffic goes only to 127.0.0.1.
"""

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._spark import SparkError, SparkServer, default_executable, machine_busy_ticks, run_benchmark

FLOOR_PER_SECOND = 1000.0
"""The issue's floor on this project's 2-core machine: accepted activities per second, zero errors."""

AS2 = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
ACTIVITY_JSON = "application/activity+json"
# Mastodon's order (app/lib/request.rb): (request-target) first, then the headers it sets.
SIGNED_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
LOCAL_USER = "bob"
REQUEST_TIMEOUT = 30.0
CEILING_SECONDS = 2.0
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


# --- the remote server ----------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteActor:
    """One actor of the fake remote server, with the key Spark will fetch and verify against."""

    name: str
    uri: str
    private_key: rsa.RSAPrivateKey

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    def document(self) -> dict[str, Any]:
        """The actor as Mastodon serves it (the fields Spark reads, nothing exotic)."""
        pem = (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )
        return {
            "@context": [AS2, SECURITY_V1],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.name,
            "name": self.name.capitalize(),
            "inbox": f"{self.uri}/inbox",
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "following": f"{self.uri}/following",
            "url": self.uri,
            "manuallyApprovesFollowers": False,
            "endpoints": {"sharedInbox": self.uri.rsplit("/users/", 1)[0] + "/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": pem},
        }


class RemoteServer:
    """K Mastodon-shaped actors on a loopback port of their own; counts Spark's key fetches.

    The signature on Spark's GET is not checked: this server only has to look like a peer that
    serves its actors, and checking would put Spark's signing on the measured path of neither side.
    """

    def __init__(self, keys: Sequence[rsa.RSAPrivateKey]) -> None:
        self.keys = list(keys)
        self.actors: list[RemoteActor] = []
        self.fetches: Counter[str] = Counter()
        self._documents: dict[str, bytes] = {}
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        self.actors = [
            RemoteActor(name=f"actor{i}", uri=f"{base}/users/actor{i}", private_key=key)
            for i, key in enumerate(self.keys)
        ]
        self._documents = {a.name: json.dumps(a.document()).encode("utf-8") for a in self.actors}
        return base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        document = self._documents.get(name)
        if document is None:
            raise web.HTTPNotFound()
        self.fetches[name] += 1
        return web.Response(body=document, content_type=ACTIVITY_JSON, charset="utf-8")


# --- the requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedPost:
    """A POST ready to send, with what the ceiling measurement needs to verify it again."""

    actor: int
    body: bytes
    headers: dict[str, str]
    signing_string: bytes
    signature: bytes


def create_note(actor: RemoteActor, recipient: str, recipient_handle: str, label: str) -> bytes:
    """A Mastodon-like Create(Note) mentioning the local user: about 1.3 kB, a typical inbox POST."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    note_id = f"{actor.uri}/statuses/{label}"
    note = {
        "id": note_id,
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": now,
        "url": note_id,
        "attributedTo": actor.uri,
        "to": [recipient],
        "cc": [],
        "sensitive": False,
        "content": (
            f'<p><span class="h-card"><a href="{recipient}" class="u-url mention">@<span>bob</span></a>'
            f"</span> status {label}: a short post of the usual length, to measure the inbox.</p>"
        ),
        "contentMap": {"en": f"@bob status {label}"},
        "attachment": [],
        "tag": [{"type": "Mention", "href": recipient, "name": recipient_handle}],
    }
    activity = {
        "@context": [AS2, {"sensitive": "as:sensitive"}],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor.uri,
        "published": now,
        "to": [recipient],
        "cc": [],
        "object": note,
    }
    return json.dumps(activity).encode("utf-8")


def sign_post(actor_index: int, actor: RemoteActor, body: bytes, host: str, path: str) -> SignedPost:
    """draft-cavage rsa-sha256 over Mastodon's header list, with a SHA-256 Digest of the body."""
    date = formatdate(usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    values = {
        "(request-target)": f"post {path}",
        "host": host,
        "date": date,
        "digest": digest,
        "content-type": ACTIVITY_JSON,
    }
    signing_string = "\n".join(f"{name}: {values[name]}" for name in SIGNED_HEADERS).encode("utf-8")
    signature = actor.private_key.sign(signing_string, _PKCS1, _SHA256)
    header = (
        f'keyId="{actor.key_id}",algorithm="rsa-sha256",headers="{" ".join(SIGNED_HEADERS)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    headers = {
        "Host": host,
        "Date": date,
        "Digest": digest,
        "Content-Type": ACTIVITY_JSON,
        "Signature": header,
    }
    return SignedPost(actor_index, body, headers, signing_string, signature)


def build_posts(
    actors: Sequence[RemoteActor], spark: SparkServer, count: int, label: str
) -> list[SignedPost]:
    """COUNT distinct signed Create(Note)s to the local user, round-robin over the actors."""
    recipient = f"{spark.base_url}/users/{LOCAL_USER}"
    handle = f"@{LOCAL_USER}@{spark.domain}"
    path = f"/users/{LOCAL_USER}/inbox"
    posts = []
    for i in range(count):
        index = i % len(actors)
        body = create_note(actors[index], recipient, handle, f"{label}-{i}")
        posts.append(sign_post(index, actors[index], body, spark.domain, path))
    return posts


# --- the ceiling ----------------------------------------------------------------------------


def verify_ceiling(posts: Sequence[SignedPost], actors: Sequence[RemoteActor], seconds: float) -> float:
    """Operations per second of ONE core doing only RSA-2048 verify + json.loads of these bodies.

    That is the work no inbox can skip, so the figure says how far Spark is from the hardware.
    """
    public_keys = [a.private_key.public_key() for a in actors]
    sample = posts[: min(len(posts), 500)]
    ops = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for post in sample:
            public_keys[post.actor].verify(post.signature, post.signing_string, _PKCS1, _SHA256)
            json.loads(post.body)
        ops += len(sample)
        if time.perf_counter() >= deadline:
            break
    return ops / (time.perf_counter() - started)


# --- the load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0
    timed_out: bool = False

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.isdigit() and 200 <= int(status) < 300)

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) - self.accepted


async def send_all(
    session: aiohttp.ClientSession, url: str, posts: Sequence[SignedPost], concurrency: int, timeout: float
) -> LoadResult:
    """POST every request, CONCURRENCY at a time, each timed from send to the answer's last byte."""
    result = LoadResult()
    pending = iter(posts)

    async def worker() -> None:
        for post in pending:  # shared iterator: each worker takes the next unsent request
            started = time.perf_counter()
            try:
                async with session.post(url, data=post.body, headers=post.headers) as response:
                    answer = await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                answer = str(exc).encode()
                status = type(exc).__name__
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1
            if not (status.isdigit() and 200 <= int(status) < 300) and len(result.error_samples) < 5:
                result.error_samples.append(f"{status}: {answer[:300].decode('utf-8', 'replace')}")

    started = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    done, not_done = await asyncio.wait(tasks, timeout=timeout)
    for task in not_done:
        task.cancel()
    await asyncio.gather(*not_done, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    result.wall = time.perf_counter() - started
    result.timed_out = bool(not_done)
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Stored:
    """What the database holds, read with the stdlib `sqlite3` only (not through Spark)."""

    measured: int
    total: int
    states: dict[str, int]
    batches: list[int]
    """Rows per group commit: the intake stamps one `created_at` on every row of a batch."""


def read_store(db_path: Path, measured_like: str) -> Stored:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as conn:
        like = (measured_like + "%",)
        measured = conn.execute("SELECT COUNT(*) FROM inbox_items WHERE dedup_key LIKE ?", like).fetchone()[0]
        total = conn.execute("SELECT COUNT(*) FROM inbox_items").fetchone()[0]
        states = dict(conn.execute("SELECT state, COUNT(*) FROM inbox_items GROUP BY state").fetchall())
        batches = [
            n
            for (n,) in conn.execute(
                "SELECT COUNT(*) FROM inbox_items WHERE dedup_key LIKE ? GROUP BY created_at", like
            )
        ]
    return Stored(measured, total, states, batches)


class PySpy:
    """Optional: `py-spy record` on the server during the measured phase (root, or ptrace allowed)."""

    def __init__(self, pid: int, output: Path) -> None:
        executable = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        fmt = {".json": "speedscope", ".txt": "raw"}.get(output.suffix, "flamegraph")
        command = [executable, "record", "--pid", str(pid), "--output", str(output), "--format", fmt]
        command += ["--rate", "100", "--nonblocking", "--threads"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # py-spy needs a moment to attach; samples before the load are idle anyway

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# --- the run --------------------------------------------------------------------------------


@dataclass
class Measurement:
    """Everything the report prints, gathered by `run`."""

    load: LoadResult
    ceiling: float
    server_cpu: float
    loop_cpu: float
    client_cpu: float
    machine_busy: float
    stored: Stored
    stored_after_stop: Stored
    done_after_drain: int
    drain_seconds: float
    fetches_during_load: int
    exit_status: int | None
    log: str


async def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The whole benchmark; returns the failed checks (empty when everything held)."""
    spark = SparkServer(
        workdir,
        executable=args.spark_fed,
        allow_private_addresses=True,
        processes=args.processes,
        run_workers=not args.worker_process,
    )
    spark.command("users", "create", LOCAL_USER)

    began = time.perf_counter()
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(args.actors)]
    remote = RemoteServer(keys)
    remote_base = await remote.start()
    print(f"remote server  {remote_base}: {args.actors} actors, keys in {time.perf_counter() - began:.1f} s")

    began = time.perf_counter()
    warm_count = args.actors + args.concurrency
    warmup = build_posts(remote.actors, spark, warm_count, "warmup")
    posts = build_posts(remote.actors, spark, args.n, "bench")
    took = time.perf_counter() - began
    print(f"signed         {len(warmup)} warm-up + {len(posts)} requests in {took:.1f} s")

    # Before Spark starts, so that nothing else of ours competes for the core it measures.
    ceiling = verify_ceiling(posts, remote.actors, CEILING_SECONDS)

    inbox_url = f"{spark.base_url}/users/{LOCAL_USER}/inbox"
    measured_like = f"{remote_base}/users/%/statuses/bench-"  # warm-up ids say "warmup-" instead
    profiler: PySpy | None = None
    stop_error: str | None = None
    try:
        startup = await asyncio.to_thread(spark.start)
        print(f"spark          {spark.base_url} pid {spark.pid}, up in {startup:.1f} s")
        if args.worker_process:
            spark.start_worker()
            print("worker         a separate `spark-fed worker` processes the inbox (server.run_workers off)")
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            # One request per actor first, so each key is fetched once and cached; then a round at
            # full concurrency, so the pooled connections exist before the clock starts.
            warm_first = await send_all(session, inbox_url, warmup[: args.actors], args.actors, 60)
            warm_rest = await send_all(session, inbox_url, warmup[args.actors :], args.concurrency, 60)
            warm_failed = warm_first.failed + warm_rest.failed
            fetches_after_warmup = sum(remote.fetches.values())
            print(
                f"warm-up        {warm_count} requests, {warm_failed} failed, "
                f"{fetches_after_warmup} actor fetches by Spark"
            )
            if warm_failed or warm_first.timed_out or warm_rest.timed_out:
                samples = warm_first.error_samples + warm_rest.error_samples
                raise SparkError("warm-up failed: " + "; ".join(samples or ["timed out"]))

            if args.py_spy:
                profiler = PySpy(spark.pid, Path(args.py_spy).resolve())
            server_cpu_0, loop_cpu_0 = spark.cpu_seconds(), spark.main_thread_cpu_seconds()
            worker_cpu_0 = spark.worker_cpu_seconds()
            client_cpu_0, busy_0 = client_cpu_seconds(), machine_busy_ticks()
            load = await send_all(session, inbox_url, posts, args.concurrency, args.timeout)
            server_cpu = spark.cpu_seconds() - server_cpu_0
            loop_cpu = spark.main_thread_cpu_seconds() - loop_cpu_0
            worker_cpu = spark.worker_cpu_seconds() - worker_cpu_0
            if args.worker_process:
                share = worker_cpu / load.wall
                print(f"worker cpu     {worker_cpu:.2f} s during the measured phase ({share:.0%} of a core)")
            client_cpu = client_cpu_seconds() - client_cpu_0
            busy_1 = machine_busy_ticks()
            if profiler is not None:
                profiler.stop()
                print(f"py-spy         profile of the measured phase in {args.py_spy}")
        # Counted while Spark still runs: every 202 must already be a row on disk.
        stored = read_store(spark.db_path, measured_like)
        # Then how fast the inbox worker works off the backlog once no request competes with it.
        await asyncio.sleep(args.drain)
        done_after_drain = read_store(spark.db_path, measured_like).states.get("done", 0)
    finally:
        await remote.close()
        if profiler is not None and profiler.process.poll() is None:
            profiler.stop()
        try:
            if spark.stop_worker() not in (None, 0):
                stop_error = "the worker did not exit 0 after SIGTERM"
            exit_status: int | None = spark.stop()
        except SparkError as exc:
            stop_error = str(exc)
            exit_status = None
    measurement = Measurement(
        load=load,
        ceiling=ceiling,
        server_cpu=server_cpu,
        loop_cpu=loop_cpu,
        client_cpu=client_cpu,
        machine_busy=(busy_1[0] - busy_0[0]) / max(1, busy_1[1] - busy_0[1]),
        stored=stored,
        stored_after_stop=read_store(spark.db_path, measured_like),
        done_after_drain=done_after_drain,
        drain_seconds=args.drain,
        fetches_during_load=sum(remote.fetches.values()) - fetches_after_warmup,
        exit_status=exit_status,
        log=spark.log_text(),
    )
    failures = report(args, measurement)
    return [stop_error, *failures] if stop_error else failures


def report(args: argparse.Namespace, m: Measurement) -> list[str]:
    """Print the figures; return the checks that failed."""
    load = m.load
    rate = load.accepted / load.wall if load.wall else 0.0
    accepted = max(1, load.accepted)
    tracebacks = m.log.count("Traceback")
    errors_logged = sum(1 for line in m.log.splitlines() if " ERROR " in line)
    batches = m.stored.batches
    drained = m.done_after_drain - m.stored.states.get("done", 0)

    print()
    print(f"requests       {args.n} at concurrency {args.concurrency} from {args.actors} actors")
    print(f"measured phase {load.wall:.2f} s")
    print(f"accepted/s     {rate:,.0f}   (floor {args.floor:,.0f})")
    print(
        f"latency        p50 {percentile(load.latencies, 0.50) * 1000:.1f} ms   "
        f"p99 {percentile(load.latencies, 0.99) * 1000:.1f} ms   "
        f"max {max(load.latencies, default=0) * 1000:.1f} ms"
    )
    breakdown = ", ".join(f"{status}: {n}" for status, n in sorted(load.statuses.items()))
    print(f"non-2xx        {load.failed}   ({breakdown})")
    for sample in load.error_samples:
        print(f"               e.g. {sample}")
    print(f"ceiling        {m.ceiling:,.0f} ops/s on one core (RSA-2048 verify + json.loads, same bodies)")
    print(f"               Spark reaches {rate / m.ceiling:.1%} of one core's ceiling")
    print(
        f"cpu            server {m.server_cpu:.2f} s ({m.server_cpu / load.wall:.0%} of a core), "
        f"benchmark client {m.client_cpu:.2f} s ({m.client_cpu / load.wall:.0%} of a core); "
        f"machine ({os.cpu_count()} cores) {m.machine_busy:.0%} busy"
    )
    print(
        f"               server event-loop thread {m.loop_cpu:.2f} s "
        f"({m.loop_cpu / load.wall:.0%} of a core), "
        f"other threads (aiosqlite) {m.server_cpu - m.loop_cpu:.2f} s"
    )
    print(
        f"               server CPU per accepted request {m.server_cpu / accepted * 1e3:.2f} ms, "
        f"of which event loop {m.loop_cpu / accepted * 1e3:.2f} ms "
        f"(one core's loop tops out near {accepted / max(m.loop_cpu, 1e-9):,.0f}/s)"
    )
    print(
        f"inbox_items    {m.stored.measured} measured rows while serving, "
        f"{m.stored_after_stop.measured} after stop ({m.stored.total} with warm-up)"
    )
    if batches:
        print(
            f"group commit   {len(batches)} commits, {sum(batches) / len(batches):.1f} rows each on average, "
            f"largest {max(batches)}"
        )
    print(
        f"inbox worker   by the end of the load {m.stored.states}; "
        f"then {drained / m.drain_seconds:,.0f} processed/s while idle"
    )
    print(f"key fetches    {m.fetches_during_load} during the measured phase")
    print(f"server exit    {m.exit_status} after SIGTERM")
    print(f"server log     {tracebacks} tracebacks, {errors_logged} ERROR lines")

    failures = []
    if load.timed_out:
        failures.append(f"the load did not finish within {args.timeout:g} s")
    if load.failed:
        failures.append(f"{load.failed} requests were not answered 2xx")
    if not m.stored.measured == m.stored_after_stop.measured == load.accepted:
        failures.append(
            f"{load.accepted} accepted but {m.stored.measured} rows stored "
            f"({m.stored_after_stop.measured} after stop)"
        )
    if m.exit_status != 0:
        failures.append(f"serve exited {m.exit_status} after SIGTERM")
    if tracebacks:
        failures.append(f"the server log has {tracebacks} tracebacks")
    if rate < args.floor:
        failures.append(f"{rate:,.0f} accepted/s is below the floor of {args.floor:,.0f}")
    return failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbox", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="measured requests (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--actors", type=int, default=20, help="remote actors, one key each (default 20)")
    parser.add_argument(
        "--floor", type=float, default=FLOOR_PER_SECOND, help="fail below this rate (0: never fail on rate)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the measured phase may take")
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="seconds to watch the inbox worker after the load (default 5)",
    )
    parser.add_argument(
        "--py-spy",
        metavar="OUT",
        help="record the server with py-spy: .svg, .json (speedscope) or .txt (collapsed stacks)",
    )
    parser.add_argument(
        "--worker-process",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="process the inbox in a separate `spark-fed worker` instead of inside serve (the default)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server.processes: Spark's processes sharing the port (default 1)",
    )
    parser.add_argument(
        "--spark-fed",
        type=Path,
        default=default_executable(),
        help="the spark-fed to run (default: the venv's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1 or args.actors < 1:
        parser.error("--n, --concurrency and --actors must be at least 1")
    if args.drain <= 0 or args.timeout <= 0:
        parser.error("--drain and --timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("inbox", args.keep, lambda w: asyncio.run(run(args, w)))


if __name__ == "__main__":
    sys.exit(main())
