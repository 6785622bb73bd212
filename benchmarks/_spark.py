"""Running `spark-fed` as an admin would: a separate process, its own config, SQLite in a temp dir.

The benchmarks measure Spark from outside on purpose. An in-process server would share the
event loop and the GIL with the load generator, and would hide start-up, logging and the
process's real memory, which is what an operator pays for.

Every wait here has a deadline, so a Spark that hangs makes a benchmark fail, not hang.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class SparkError(Exception):
    """Spark did not start, answer or stop as expected; the message says what happened."""


def free_port() -> int:
    """A loopback port nobody listens on now (Spark needs its port in its config before it starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_executable() -> Path:
    """The `spark-fed` script beside the interpreter running us, i.e. the venv's."""
    return Path(sys.executable).parent / "spark-fed"


class SparkServer:
    """One `spark-fed serve` on 127.0.0.1 with a SQLite database in WORKDIR.

    The server's stdout and stderr go to a file in WORKDIR, not to a pipe: the access log
    writes a line per request, and a pipe nobody reads would fill and block the server.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        executable: Path | None = None,
        allow_private_addresses: bool = False,
        port: int | None = None,
        processes: int = 1,
        run_workers: bool = True,
        database_url: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.executable = executable or default_executable()
        self.port = port or free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.domain}"
        self.db_path = workdir / "spark.db"
        self.config_path = workdir / "spark.toml"
        self.log_path = workdir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._log: IO[bytes] | None = None
        federation = "true" if allow_private_addresses else "false"
        self.config_path.write_text(
            f'[server]\ndomain = "{self.domain}"\nhost = "127.0.0.1"\nport = {self.port}\n'
            f"processes = {processes}\nrun_workers = {str(run_workers).lower()}\n"
            f'[database]\nurl = "{database_url or f"sqlite+aiosqlite:///{self.db_path}"}"\n'
            f"[federation]\nallow_private_addresses = {federation}\n",
            encoding="utf-8",
        )

    def command(self, *args: str) -> str:
        """Run `spark-fed --config … ARGS` to completion (e.g. `users create bob`); its stdout."""
        try:
            done = subprocess.run(
                [str(self.executable), "--config", str(self.config_path), *args],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                cwd=self.workdir,
            )
        except subprocess.TimeoutExpired:
            raise SparkError(f"spark-fed {' '.join(args)} did not finish in {COMMAND_TIMEOUT:g} s") from None
        if done.returncode != 0:
            raise SparkError(f"spark-fed {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    @property
    def pid(self) -> int:
        if self.process is None:
            raise SparkError("the server is not running")
        return self.process.pid

    def start(self, ready_path: str = "/.well-known/nodeinfo") -> float:
        """Start `serve` and wait until READY_PATH answers 200; returns the seconds that took."""
        started = time.monotonic()
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(self.executable), "--config", str(self.config_path), "serve"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SparkError(f"serve exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + ready_path, timeout=1) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        self.kill()
        raise SparkError(f"serve did not answer {ready_path} within {START_TIMEOUT:g} s:\n{self.log_tail()}")

    @property
    def worker(self) -> subprocess.Popen[bytes] | None:
        """The first `spark-fed worker`, if any were started."""
        return self.workers[0] if self.workers else None

    def start_worker(self) -> None:
        """One more `spark-fed worker` beside the server, as a busy instance runs them
        (server.run_workers off)."""
        self.workers.append(
            subprocess.Popen(
                [str(self.executable), "--config", str(self.config_path), "worker"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.workdir,
            )
        )

    def worker_cpu_seconds(self) -> float:
        return sum(_stat_cpu_seconds(Path(f"/proc/{worker.pid}/stat")) for worker in self.workers)

    def stop_worker(self) -> int | None:
        """SIGTERM every worker; the first non-zero exit status, 0, or None when none ran."""
        statuses = []
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                statuses.append(worker.wait(timeout=STOP_TIMEOUT))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=STOP_TIMEOUT)
                raise SparkError(f"worker did not exit within {STOP_TIMEOUT:g} s of SIGTERM") from None
        return next((status for status in statuses if status != 0), 0) if statuses else None

    def stop(self) -> int:
        """SIGTERM, then wait for the exit status; a server that does not stop is killed and fails."""
        if self.process is None:
            raise SparkError("the server was never started")
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise SparkError(f"serve did not exit within {STOP_TIMEOUT:g} s of SIGTERM") from None
        finally:
            self._close_log()
        return status

    def kill(self) -> None:
        """Last resort, for cleanup after a failure: only our own child, by its pid."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def server_pids(self) -> list[int]:
        """The serving processes: the one started, or, with `server.processes` > 1, its children."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children] or [self.pid]

    def cpu_seconds(self) -> float:
        """User + system CPU the server processes have used so far, all their threads together.

        Threads that have exited count too (the kernel adds them to the process's total).
        """
        return sum(_stat_cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in {self.pid, *self.server_pids()})

    def main_thread_cpu_seconds(self) -> float:
        """CPU of the main threads alone: the event loops, where all of Spark's Python code runs.

        The rest of the processes' CPU is other threads (aiosqlite runs one per connection), so
        the split says whether the loops or the database threads are the busy part.
        """
        return sum(self.thread_cpu_seconds(pid, pid) for pid in self.server_pids())

    @staticmethod
    def thread_cpu_seconds(pid: int, tid: int) -> float:
        """User + system CPU of one thread (TID == PID: the process's main thread, its event loop)."""
        return _stat_cpu_seconds(Path(f"/proc/{pid}/task/{tid}/stat"))

    def status_kib(self, field: str) -> int:
        """A size from /proc/PID/status (VmRSS, VmHWM, …) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
        raise SparkError(f"/proc/{self.pid}/status has no {field}")

    def threads(self) -> int:
        return self.status_kib("Threads")


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat, to tell how loaded the machine was."""
    with open("/proc/stat") as stat:
        # user nice system idle iowait irq softirq steal; guest time is already inside user.
        values = [int(v) for v in stat.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def sqlite_time(moment: datetime) -> str:
    """MOMENT as Spark's `UTCDateTime` stores it in SQLite: naive UTC, microseconds (for seeding)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _stat_cpu_seconds(path: Path) -> float:
    # Field 2 (the command name) may contain spaces; the fixed fields start after its ')'.
    fields = path.read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def run_benchmark(name: str, keep: bool, body: Callable[[Path], list[str]]) -> int:
    """Run BODY in a fresh work directory, print the failed checks and the verdict; the exit status."""
    workdir = Path(tempfile.mkdtemp(prefix=f"spark-bench-{name}-"))
    try:
        failures = body(workdir)
    except (SparkError, subprocess.SubprocessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if keep:
            print(f"kept           {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for failure in failures:
        print(f"FAIL           {failure}")
    print("RESULT         " + ("FAIL" if failures else "PASS"))
    return 1 if failures else 0
