"""`spark-fed serve` as an admin runs it: a real process, real signals, a real database file."""

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import free_port

SCRIPT = Path(sys.executable).parent / "spark-fed"


def _wait_until_up(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up within 30 s")


def _get_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    return json.loads(urllib.request.urlopen(request, timeout=5).read())


def _serve_once(config: Path, base: str, sig: int) -> dict:
    proc = subprocess.Popen(
        [str(SCRIPT), "--config", str(config), "serve"], stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_until_up(proc, f"{base}/.well-known/nodeinfo")
        documents = {"alice": _get_json(f"{base}/users/alice"), "actor": _get_json(f"{base}/actor")}
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in proc.stderr.read()
        return documents
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_stops_cleanly_and_keeps_everything_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "127.0.0.1:{port}"\nport = {port}\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/spark.db"\n'
    )
    made = subprocess.run(
        [str(SCRIPT), "--config", str(config), "users", "create", "alice"], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    base = f"http://127.0.0.1:{port}"
    first = _serve_once(config, base, signal.SIGTERM)
    second = _serve_once(config, base, signal.SIGINT)
    assert first["alice"]["id"] == f"{base}/users/alice"
    # Keys live in the database: a restart must not change anyone's identity.
    assert first["alice"]["publicKey"] == second["alice"]["publicKey"]
    assert first["actor"]["publicKey"] == second["actor"]["publicKey"]
