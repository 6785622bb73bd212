"""Running `spark-fed` in-process against a throwaway SQLite server, as the CLI test files do."""

from collections.abc import Callable
from pathlib import Path

import pytest

from spark_fed.cli import main

CliRun = Callable[..., tuple[int, str, str]]


def cli_runner(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRun:
    """A `run(*args)` giving (exit status, stdout, stderr) of one `spark-fed` command.

    Every call uses the same config file, so one test's commands share one database.
    """
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "spark.test"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/s.db"\n'
    )

    def invoke(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return status, out, err

    return invoke
