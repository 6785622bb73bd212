"""Running `spark-fed serve`: migrate in a separate process, then serve in one or more.

Migrating in a child keeps alembic out of the server's memory. With
`server.processes` above one, the parent forks that many servers sharing
the port through SO_REUSEPORT (the kernel spreads connections), forwards
SIGTERM/SIGINT to them and exits when they have all stopped; each child asks
to be sent SIGTERM if the parent dies, so none is left behind.
"""

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import uvloop
from aiohttp import web

from .config import Config
from .errors import ConfigError

log = logging.getLogger("spark_fed")
PR_SET_PDEATHSIG = 1


def without_docstrings(config_path: str | None) -> None:
    """Start `serve` again under `python -OO`, unless it already is (or SPARK_KEEP_DOCSTRINGS is set).

    The docstrings of everything a server imports (SQLAlchemy's alone are several MB) stay in
    memory for as long as it runs and are never read: -OO leaves them out, ~3.7 MiB of an idle
    server's ~80 (docs/decisions.md, Footprint). It also drops `assert`s, which Spark uses only to
    narrow types, never to check input.
    """
    if sys.flags.optimize >= 2 or os.environ.get("SPARK_KEEP_DOCSTRINGS"):
        return
    command = [sys.executable, "-OO", "-m", "spark_fed.cli"]
    if config_path:
        command += ["--config", config_path]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [*command, "serve"])


def migrate_in_child(config_path: str | None) -> None:
    """`spark-fed db upgrade` in a child process; its one-line error becomes ours."""
    command = [sys.executable, "-m", "spark_fed.cli"]
    if config_path:
        command += ["--config", config_path]
    done = subprocess.run([*command, "db", "upgrade"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "db upgrade failed"
        raise ConfigError(message.removeprefix("spark-fed: "))


def serve(config: Config, make_app: Callable[[], web.Application]) -> int:
    processes = config.server.processes
    if processes == 1:
        _run(config, make_app, reuse_port=False)
        return 0
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            _become_child()
            _run(config, make_app, reuse_port=True)
            os._exit(0)
        children.append(pid)
    return _supervise(children)


def _run(config: Config, make_app: Callable[[], web.Application], *, reuse_port: bool) -> None:
    uvloop.install()  # libuv's event loop: less CPU per request than asyncio's own
    web.run_app(
        make_app(),
        host=config.server.host,
        port=config.server.port,
        reuse_port=reuse_port,
        print=lambda _msg: log.info(
            "serving %s on http://%s:%d (pid %d)",
            config.base_url,
            config.server.host,
            config.server.port,
            os.getpid(),
        ),
        access_log=None,
    )


def _become_child() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _supervise(children: list[int]) -> int:
    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for pid in children:
        _, code = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(code) != 0:
            status = 1
    return status
