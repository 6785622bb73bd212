"""Media: a 12-megapixel photo through Spark's image processing, and the media proxy's latency.

    python -m benchmarks.media [--images 8] [--cold 8] [--hits 200]

What it does, and why each part is there:

* The photo is made here with Pillow before anything is measured: 4000 x 3000, gradients, blurred
  and fine noise and a few shapes (so it compresses like a photo, ~2 MB at quality 90, not like a
  flat colour), with camera and GPS EXIF, which Spark must strip.
* The ceiling, in the same run: in two fresh child processes pinned to one core each, in turn,
  (a) Spark's own `spark_fed.media.processing.process` (what an upload and a proxied remote file
  cost: sniff, header check, decode, orientation, metadata stripped, scale to 3840x2160 worth of
  pixels, re-encode, preview, blurhash), and (b) a plain Pillow decode-resize-encode of the same
  image to the same size (LANCZOS, JPEG quality 85): the work no image server can avoid. Each
  reports images per second and its peak memory (VmHWM) above what it held before the first image.
* `spark-fed serve` (SQLite in a temp dir, `allow_private_addresses` so it may fetch from
  loopback). Upload run: `POST /api/v2/media` with a token from `spark-fed tokens create`, one
  upload at a time, when the server has that endpoint (otherwise the in-process figure (a) is the
  upload figure and the line says so). Proxy run: a small aiohttp server in this process on
  127.0.0.1 serves the photo at distinct URLs; remote media rows pointing at them are written with
  Spark's models (as an arriving note leaves them: pending, the origin's URL); then
  `GET /media/ID/original` for each (cold: fetch, check, process, store, budget) and the same
  URLs again (cached hits), over one keep-alive connection. The server's VmHWM is read from
  /proc before and after each run.
* Checks: every answer 200 with a JPEG of at most 3840x2160 worth of pixels and no EXIF, the hits
  the same bytes as the cold answers, serve exiting 0 on SIGTERM, no traceback in its log.
  Figures are printed, not gated: they depend on the machine.

Every loop is bounded by a count and a time budget; traffic goes only to 127.0.0.1.
"""

import argparse
import asyncio
import http.client
import io
import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._spark import SparkError, SparkServer, default_executable, machine_busy_ticks, run_benchmark
from .inbox import percentile

WIDTH, HEIGHT = 4000, 3000
MAX_AREA = 3840 * 2160
REQUEST_TIMEOUT = 120.0
UPLOAD_PATH = "/api/v2/media"


# --- the image ------------------------------------------------------------------------------------


def make_photo(seed: int = 7) -> bytes:
    """A 12-megapixel JPEG that compresses like a photo, with camera and GPS EXIF."""
    from PIL import ExifTags, Image, ImageDraw, ImageFilter

    size = (WIDTH, HEIGHT)
    sky = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise(size, 64 + seed).filter(ImageFilter.GaussianBlur(1.2))
    fine = Image.effect_noise(size, 20)
    red = Image.blend(sky, grain, 0.35)
    green = Image.blend(sky.rotate(180), fine, 0.25)
    blue = Image.blend(Image.radial_gradient("L").resize(size), grain, 0.2)
    photo = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(photo)
    for n in range(12):  # edges, as a scene has
        x, y = (n * 331 + seed * 97) % WIDTH, (n * 257 + seed * 53) % HEIGHT
        draw.ellipse((x, y, x + 200 + n * 40, y + 150 + n * 30), outline=(255 - n * 20, n * 20, 128), width=8)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.Base.Model] = "12MP"
    exif[ExifTags.Base.Orientation] = 1
    location = exif.get_ifd(ExifTags.IFD.GPSInfo)
    location[ExifTags.GPS.GPSLatitudeRef] = "N"
    location[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    location[ExifTags.GPS.GPSLongitudeRef] = "E"
    location[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def check_output(data: bytes) -> str | None:
    """What is wrong with an image Spark served, or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                return f"served {image.format}, not JPEG"
            if image.width * image.height > MAX_AREA:
                return f"served {image.width}x{image.height}, over 3840x2160 worth of pixels"
            if image.getexif() or "exif" in image.info:
                return "served EXIF"
    except OSError as exc:
        return f"served something unreadable ({exc})"
    return None


# --- the ceiling, in child processes ----------------------------------------------------------------


def _status_kib(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    return 0


def _plain_pillow(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        scale = (MAX_AREA / (image.width * image.height)) ** 0.5
        size = (int(image.width * scale), int(image.height * scale)) if scale < 1 else image.size
        out = io.BytesIO()
        image.resize(size, resample=Image.Resampling.LANCZOS).save(out, format="JPEG", quality=85)
        return out.getvalue()


def _spark_process(data: bytes) -> bytes:
    from spark_fed.media.processing import process

    return process(data, max_bytes=64 * 1024 * 1024, max_pixels=33_177_600).data


def measure_in_child(kind: str, data: bytes, count: int, budget: float) -> dict[str, Any]:
    """Runs in a fresh process pinned to one core: COUNT images (or BUDGET seconds), one at a time."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    work = _spark_process if kind == "spark" else _plain_pillow
    import PIL.Image  # noqa: F401  (imports outside the measured figures)

    if kind == "spark":
        import spark_fed.media.processing  # noqa: F401

    before = _status_kib("VmRSS")
    times: list[float] = []
    cpu_start = time.process_time()
    deadline = time.monotonic() + budget
    output = b""
    while len(times) < count and (not times or time.monotonic() < deadline):
        started = time.perf_counter()
        output = work(data)
        times.append(time.perf_counter() - started)
    return {
        "times": times,
        "cpu": time.process_time() - cpu_start,
        "rss_before_kib": before,
        "hwm_kib": _status_kib("VmHWM"),
        "output_bytes": len(output),
        "problem": check_output(output),
    }


def ceiling(kind: str, data: bytes, count: int, budget: float) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: its VmHWM is this work's
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(measure_in_child, kind, data, count, budget).result(timeout=budget * 4 + 120)


# --- the remote origin ------------------------------------------------------------------------------


class Origin:
    """An aiohttp server on 127.0.0.1 in a thread of its own, serving the photo at /photo/N.jpg."""

    def __init__(self, photo: bytes) -> None:
        self.photo = photo
        self.hits = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Origin":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the image origin did not start")
        return self

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from aiohttp import web

        async def photo(_request: web.Request) -> web.Response:
            self.hits += 1
            return web.Response(body=self.photo, content_type="image/jpeg")

        app = web.Application()
        app.router.add_get("/photo/{n}.jpg", photo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()


async def _remote_rows(db_url: str, origin: str, count: int) -> list[int]:
    """COUNT remote media rows as an arriving note leaves them: pending, pointing at ORIGIN."""
    from spark_fed.db import Database
    from spark_fed.models import Account, MediaAttachment

    db = Database(db_url)
    try:
        async with db.write() as session:
            account = Account(
                uri=f"{origin}/users/zoe",
                username="zoe",
                domain=origin.split("//", 1)[1],
                inbox_url=f"{origin}/users/zoe/inbox",
                public_key_id=f"{origin}/users/zoe#main-key",
                public_key_pem="unused",
            )
            session.add(account)
            await session.flush()
            rows = [
                MediaAttachment(
                    account_id=account.id,
                    local=False,
                    remote_url=f"{origin}/photo/{n}.jpg",
                    fetch_state="pending",
                )
                for n in range(count)
            ]
            session.add_all(rows)
        return [row.id for row in rows]
    finally:
        await db.engine.dispose()


# --- HTTP -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float


class Client:
    """One keep-alive connection to Spark (reconnecting if the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                return Answer(response.status, data, time.perf_counter() - started)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
                started = time.perf_counter()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _multipart(photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\na benchmark photo\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _mib(kib: int) -> str:
    return f"{kib / 1024:6.1f} MiB"


def _rate_line(label: str, result: dict[str, Any]) -> str:
    times = result["times"]
    rate = len(times) / sum(times)
    return (
        f"{label:<28} {rate:5.2f} images/s  (n={len(times)}, p50 {_ms(percentile(times, 0.5))}, "
        f"CPU {result['cpu'] / len(times) * 1000:.0f} ms/image), peak "
        f"{_mib(result['hwm_kib'] - result['rss_before_kib'])} above {_mib(result['rss_before_kib'])}"
    )


# --- the run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    failures: list[str] = []
    started = time.monotonic()
    photo = make_photo()
    print(
        f"photo          {WIDTH}x{HEIGHT} JPEG, {len(photo) / 1e6:.2f} MB with EXIF (GPS), made in "
        f"{time.monotonic() - started:.1f} s; {os.cpu_count()} CPUs"
    )

    busy_start = machine_busy_ticks()
    plain = ceiling("pillow", photo, args.images, args.budget)
    spark_inproc = ceiling("spark", photo, args.images, args.budget)
    print(_rate_line("plain Pillow (ceiling)", plain))
    print(_rate_line("Spark process(), in-process", spark_inproc))
    for label, result in (("plain Pillow", plain), ("Spark process()", spark_inproc)):
        if result["problem"] and label != "plain Pillow":
            failures.append(f"{label}: {result['problem']}")
    plain_p50 = percentile(plain["times"], 0.5)

    spark = SparkServer(workdir, executable=args.spark_fed, allow_private_addresses=True)
    with spark.config_path.open("a", encoding="utf-8") as config:
        config.write(f'[media]\npath = "{workdir / "media"}"\n')
    spark.command("users", "create", "alice")
    token = spark.command("tokens", "create", "alice").strip().splitlines()[-1]
    client: Client | None = None
    try:
        spark.start()
        client = Client(spark.port)
        for _ in range(20):  # the ordinary request path warmed up, Pillow not yet imported
            client.request("GET", "/.well-known/nodeinfo")
        idle_rss = spark.status_kib("VmRSS")
        idle_hwm = spark.status_kib("VmHWM")
        idle = f"idle VmRSS {_mib(idle_rss)}, VmHWM {_mib(idle_hwm)}"
        print(f"spark          {spark.base_url} pid {spark.pid}; {idle}")

        # Upload run, through the client API when the server has it.
        body, content_type = _multipart(photo)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        probe = client.request("POST", UPLOAD_PATH, body, headers)
        if probe.status in (404, 405):
            print(
                f"upload (HTTP)  {UPLOAD_PATH} answers {probe.status}: not in this build; the in-process "
                "figure above is the upload's processing"
            )
        else:
            times, cpu_start, deadline = [probe.seconds], spark.cpu_seconds(), time.monotonic() + args.budget
            statuses = [probe.status]
            ids = [_media_id(probe.body)]
            while len(times) < args.images and time.monotonic() < deadline:
                answer = client.request("POST", UPLOAD_PATH, body, headers)
                times.append(answer.seconds)
                statuses.append(answer.status)
                ids.append(_media_id(answer.body))
            cpu = (spark.cpu_seconds() - cpu_start) / max(1, len(times) - 1)
            hwm = spark.status_kib("VmHWM")
            print(
                f"upload (HTTP)  {len(times) / sum(times):5.2f} images/s  (n={len(times)}, p50 "
                f"{_ms(percentile(times, 0.5))}, server CPU {cpu * 1000:.0f} ms/upload), server VmHWM "
                f"{_mib(hwm)} ({_mib(hwm - idle_rss)} above idle)"
            )
            if any(s not in (200, 202) for s in statuses):
                failures.append(f"uploads answered {sorted(set(statuses))}")
            for media_id in [i for i in ids if i][:1]:
                served = client.request("GET", f"/media/{media_id}/original")
                problem = f"status {served.status}" if served.status != 200 else check_output(served.body)
                if problem:
                    failures.append(f"uploaded image: {problem}")

        # Proxy run: cold fetches, then cached hits.
        with Origin(photo) as origin:
            ids = asyncio.run(
                _remote_rows(
                    f"sqlite+aiosqlite:///{spark.db_path}", f"http://127.0.0.1:{origin.port}", args.cold
                )
            )
            before_hwm = spark.status_kib("VmHWM")
            cold: list[Answer] = []
            cpu_start, deadline = spark.cpu_seconds(), time.monotonic() + args.budget
            for media_id in ids:
                if cold and time.monotonic() > deadline:
                    break
                cold.append(client.request("GET", f"/media/{media_id}/original"))
            cold_cpu = (spark.cpu_seconds() - cpu_start) / len(cold)
            after_hwm = spark.status_kib("VmHWM")
            fetched = ids[: len(cold)]
            hits: list[Answer] = []
            deadline = time.monotonic() + args.budget
            for n in range(args.hits):
                if time.monotonic() > deadline:
                    break
                hits.append(client.request("GET", f"/media/{fetched[n % len(fetched)]}/original"))
            small = [client.request("GET", f"/media/{i}/small") for i in fetched]
            origin_hits = origin.hits

        cold_times = [a.seconds for a in cold]
        hit_times = [a.seconds for a in hits]
        spark_p50 = percentile(spark_inproc["times"], 0.5)
        print(
            f"proxy cold     p50 {_ms(percentile(cold_times, 0.5))}  max {_ms(max(cold_times))}  "
            f"(n={len(cold)}, {len(cold[0].body) / 1e6:.2f} MB out, "
            f"server CPU {cold_cpu * 1000:.0f} ms/fetch)"
        )
        print(f"  beside       plain Pillow {_ms(plain_p50)}, Spark process() in-process {_ms(spark_p50)}")
        small_p50 = percentile([a.seconds for a in small], 0.5)
        print(
            f"proxy hit      p50 {_ms(percentile(hit_times, 0.5))}  p95 {_ms(percentile(hit_times, 0.95))}  "
            f"(n={len(hits)}, {len(hits[0].body) / 1e6:.2f} MB; "
            f"preview p50 {_ms(small_p50).strip()}, {len(small[0].body) / 1e3:.0f} kB)"
        )
        print(
            f"server memory  VmHWM {_mib(after_hwm)} after the cold fetches, "
            f"{_mib(after_hwm - idle_rss)} above idle VmRSS ({_mib(before_hwm)} before them)"
        )
        print(f"origin         {origin_hits} GETs for {len(cold)} cold fetches and {len(hits)} hits")

        for answer in [*cold, *hits]:
            if answer.status != 200:
                failures.append(f"/media/ID/original answered {answer.status}: {answer.body[:200]!r}")
                break
        problem = check_output(cold[0].body)
        if problem:
            failures.append(f"proxied image: {problem}")
        if any(a.status != 200 for a in small):
            failures.append("a preview did not answer 200")
        by_id = {fetched[n]: cold[n].body for n in range(len(cold))}
        if any(hits[n].body != by_id[fetched[n % len(fetched)]] for n in range(len(hits))):
            failures.append("a cached hit served other bytes than the cold fetch")
        if origin_hits != len(cold):
            failures.append(f"the origin was asked {origin_hits} times for {len(cold)} files")
    finally:
        if client is not None:
            client.close()
        try:
            exit_status: int | None = spark.stop()
        except SparkError as exc:
            failures.append(str(exc))
            exit_status = None
    busy, total = (b - a for a, b in zip(busy_start, machine_busy_ticks(), strict=True))
    print(f"machine        {100 * busy / max(1, total):.0f} % busy during the run (all CPUs)")
    print(f"server exit    {exit_status} after SIGTERM")
    if exit_status != 0:
        failures.append(f"serve exited {exit_status} after SIGTERM")
    if "Traceback" in spark.log_text():
        failures.append("the server log has a traceback")
    return failures


def _media_id(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.media", description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=8, help="images per processing series (default 8)")
    parser.add_argument("--cold", type=int, default=8, help="remote files fetched cold (default 8)")
    parser.add_argument("--hits", type=int, default=200, help="cached GETs (default 200)")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds each series may take (default 60)"
    )
    parser.add_argument(
        "--spark-fed",
        type=Path,
        default=default_executable(),
        help="the spark-fed to run (default: the venv's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, media, serve.log)")
    args = parser.parse_args(argv)
    if args.images < 1 or args.cold < 1 or args.hits < 1 or args.budget <= 0:
        parser.error("need --images, --cold, --hits >= 1 and --budget > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("media", args.keep, lambda w: run(args, w))


if __name__ == "__main__":
    sys.exit(main())
