"""Running `spark-fed serve`: migrate in a separate process, then serve in one or more.

Migrating in a child keeps alembic out of the server's memory. With
`server.processes` above one, the parent forks that many servers sharing
the port through SO_REUSEPORT (the kernel spreads connections), forwards
SIGTERM/SIGINT to them and exits when they have all stopped; each child asks
to be sent SIGTERM if the parent dies, so none is left behind.
"""

import contextlib
import ctypes
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

import uvloop
from aiohttp import web

from .config import Config
from .errors import ConfigError

log = logging.getLogger("spark_fed")
PR_SET_PDEATHSIG = 1
COMMON_LOG_FORMAT = '%a - - %t "%r" %s %b'
"""NCSA's Common Log Format in aiohttp's notation: host, ident, user, time, request line, status, size."""
_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is already in use (another server? set server.port)",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "no such address on this machine (check server.host)",
}


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


def check_port(config: Config) -> None:
    """Fail at once, with one line, when the port cannot be bound: not after migrating and starting.

    The server binds it again later (the check closes its sockets), and `_run` reports a port
    taken in between the same way.
    """
    server = config.server
    try:
        for family, kind, proto, _name, address in socket.getaddrinfo(
            server.host, server.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {server.host}: {exc.strerror} (check server.host)") from None
    except OSError as exc:
        raise _bind_error(config, exc) from None


def serve(config: Config, make_app: Callable[[], web.Application]) -> int:
    if warning := config.server.domain_port_mismatch():
        log.warning("%s", warning)
    processes = config.server.processes
    if processes == 1:
        _run(config, make_app, reuse_port=False)
        return 0
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            _become_child()
            try:
                _run(config, make_app, reuse_port=True)
            except ConfigError as exc:
                print(f"spark-fed: {exc}", file=sys.stderr)
                os._exit(2)
            os._exit(0)
        children.append(pid)
    return _supervise(children)


def _run(config: Config, make_app: Callable[[], web.Application], *, reuse_port: bool) -> None:
    """Serve until SIGTERM or SIGINT; a port that cannot be bound is a ConfigError (one line, exit 2)."""
    uvloop.install()  # libuv's event loop: less CPU per request than asyncio's own
    server = config.server
    try:
        web.run_app(
            make_app(),
            host=server.host,
            port=server.port,
            reuse_port=reuse_port,
            print=lambda _msg: _started(config),
            access_log=_access_log() if server.access_log == "common" else None,
            access_log_format=COMMON_LOG_FORMAT,
        )
    except OSError as exc:
        if exc.errno not in _BIND_ERRORS:
            raise
        raise _bind_error(config, exc) from None
    log.info("stopped serving %s (pid %d)", config.base_url, os.getpid())


def _started(config: Config) -> None:
    """Called once the port is bound and start-up is done: say so, and give back what start-up freed.

    Importing and wiring leave free holes in the C heap (a module's .pyc is read whole, then
    dropped); glibc keeps them until told. malloc_trim returns every free page to the kernel.
    """
    server = config.server
    log.info("serving %s on http://%s:%d (pid %d)", config.base_url, server.host, server.port, os.getpid())
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(None).malloc_trim(0)


def _bind_error(config: Config, exc: OSError) -> ConfigError:
    reason = _BIND_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
    return ConfigError(f"cannot listen on {config.server.host} port {config.server.port}: {reason}")


def _access_log() -> logging.Logger:
    """Request lines alone on standard output, apart from the server's own log on standard error."""
    access = logging.getLogger("spark_fed.access")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    return access


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
        code = os.waitstatus_to_exitcode(code)
        if code != 0:
            status = max(status, 2 if code == 2 else 1)
    return status
