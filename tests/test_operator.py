"""What a new operator meets first, through the real `spark-fed` command in a process of its own.

A port already taken, a token captured with `$(…)`, a mistyped `--limit`, a port changed
without the domain, the access log and the line at shutdown.
"""

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from .conftest import free_port

SCRIPT = Path(sys.executable).parent / "spark-fed"
COMMON_LOG_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[[^\]]+\] "GET /api/v1/accounts/verify_credentials HTTP/1\.1" 200 \d+$'
)


def _config(tmp_path: Path, db_url: str, *, port: int, domain: str, access_log: str = "off") -> Path:
    path = tmp_path / "spark.toml"
    path.write_text(
        f'[server]\ndomain = "{domain}"\nport = {port}\naccess_log = "{access_log}"\n'
        f'[database]\nurl = "{db_url}"\n[media]\npath = "{tmp_path / "media"}"\n'
    )
    return path


def _spark(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--config", str(config), *args], capture_output=True, text=True, timeout=120
    )


def _serve(
    config: Path, port: int, stop: signal.Signals, while_up: Callable[[], None] = lambda: None
) -> tuple[int, str, str]:
    """Run `spark-fed serve` with CONFIG until it answers on PORT, call WHILE_UP, then send STOP:
    its exit status, standard output and standard error."""
    proc = subprocess.Popen(
        [str(SCRIPT), "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_up(proc, f"http://127.0.0.1:{port}/.well-known/nodeinfo")
        while_up()
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def _wait_until_up(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up within 60 s")


async def test_token_alone_on_stdout_access_log_port_warning_and_shutdown_line(
    tmp_path: Path, database_url: Callable[[], Awaitable[str]]
) -> None:
    port = free_port()
    # The port changed, the domain left at its default: ids would name port 8080.
    config = _config(tmp_path, await database_url(), port=port, domain="localhost:8080", access_log="common")
    assert _spark(config, "users", "create", "alice").returncode == 0
    made = _spark(config, "tokens", "create", "alice")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and re.fullmatch(r"[A-Za-z0-9_-]{20,}", token), made.stdout
    assert "token for alice" in made.stderr

    def signed_in() -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["username"] == "alice"

    status, out, err = _serve(config, port, signal.SIGTERM, while_up=signed_in)
    assert status == 0, err
    access = out.splitlines()
    assert any(COMMON_LOG_LINE.match(line) for line in access), access
    assert f"server.port is {port} but server.domain is localhost:8080" in err
    assert re.search(r"stopped serving http://localhost:8080 \(pid \d+\)", err), err
    assert "Traceback" not in err


async def test_access_log_is_off_by_default(
    tmp_path: Path, database_url: Callable[[], Awaitable[str]]
) -> None:
    port = free_port()
    config = _config(tmp_path, await database_url(), port=port, domain=f"127.0.0.1:{port}")
    status, out, err = _serve(config, port, signal.SIGINT)
    assert status == 0, err
    assert out == ""
    assert "server.domain" not in err  # domain and port agree: no warning
    assert "stopped serving" in err


async def test_a_port_in_use_is_one_line_and_exit_2(
    tmp_path: Path, database_url: Callable[[], Awaitable[str]]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config(tmp_path, await database_url(), port=port, domain=f"127.0.0.1:{port}")
        done = _spark(config, "serve")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"spark-fed: cannot listen on 127.0.0.1 port {port}: the port is already in use"
        " (another server? set server.port)"
    ]


@pytest.mark.parametrize(
    "command",
    [["timeline", "alice"], ["notifications", "alice"], ["reports", "list"]],
    ids=lambda c: " ".join(c),
)
@pytest.mark.parametrize("value", ["-1", "0", "1000000000", "ten"])
def test_a_negative_or_absurd_limit_is_refused(tmp_path: Path, command: list[str], value: str) -> None:
    config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/spark.db", port=8080, domain="localhost:8080")
    done = _spark(config, *command, "--limit", value)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "argument --limit: must be" in done.stderr and value in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "spark.db").exists()  # refused before the database is opened


def _modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running CODE."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_users_list_imports_no_http_template_crypto_or_migration_code(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/spark.db", port=8080, domain="localhost:8080")
    assert _spark(config, "users", "create", "alice").returncode == 0
    loaded = _modules_after(
        f"from spark_fed.cli import main\nassert main(['--config', {str(config)!r}, 'users', 'list']) == 0"
    )
    assert {"sqlalchemy", "spark_fed"} <= loaded
    assert not loaded & {"aiohttp", "jinja2", "cryptography", "alembic", "outbox"}


def test_help_still_lists_the_commands_of_every_module() -> None:
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for command in ("users", "post", "timeline", "media", "import", "block", "domains", "sessions"):
        assert f"    {command}" in done.stdout, command


def test_the_server_imports_jinja2_only_for_a_page() -> None:
    assert "jinja2" not in _modules_after("import spark_fed.app, spark_fed.cli")
