"""Configuration files: the known keys, and one clear line for anything else."""

import subprocess
import sys
from pathlib import Path

import pytest

from spark_fed.cli import main
from spark_fed.config import Config, ServerConfig, load_config
from spark_fed.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_serve_a_development_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_CONFIG", raising=False)
    config = load_config(None)
    assert config == Config()
    assert config.base_url == "http://localhost:8080"
    assert config.database.url == "sqlite+aiosqlite:///data/spark.db"
    assert config.federation.allow_private_addresses is False


def test_example_config_is_valid_and_documented() -> None:
    example = ROOT / "config.example.toml"
    config = load_config(example)
    assert config.server.domain == "localhost:8080"
    text = example.read_text()
    for section, fields in (
        ("server", config.server),
        ("database", config.database),
        ("federation", config.federation),
        ("instance", config.instance),
        ("auth", config.auth),
    ):
        assert f"[{section}]" in text
        for key in type(fields).__dataclass_fields__:
            assert f"\n{key} = " in text or f"\n# {key} = " in text, f"{section}.{key} is not in the example"


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "spark.toml"
    path.write_text('[server]\ndomain = "spark.example"\nscheme = "https"\n[instance]\ntitle = "Mine"\n')
    config = load_config(path)
    assert config.base_url == "https://spark.example"
    assert config.instance.title == "Mine"
    assert config.server.port == 8080
    monkeypatch.setenv("SPARK_CONFIG", str(path))
    assert load_config(None) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 1\n", "unknown config key server.prot"),
        ("[srv]\n", "unknown config section [srv]"),
        ('[server]\nport = "8080"\n', "server.port must be an integer, not str"),
        ("[server]\nport = true\n", "server.port must be an integer, not bool"),
        (
            "[federation]\nallow_private_addresses = 1\n",
            "federation.allow_private_addresses must be true or false",
        ),
        ('[server]\nscheme = "ftp"\n', "server.scheme must be one of http, https"),
        ('[server]\naccess_log = "combined"\n', "server.access_log must be one of off, common"),
        ("[server]\naccess_log = true\n", "server.access_log must be a string, not bool"),
        ("[server]\nport = 70000\n", "server.port must be between 1 and 65535"),
        ('[database]\nurl = "mysql://x"\n', "database.url must start with"),
        (
            '[instance]\nregistrations = "yes"\n',
            "instance.registrations must be one of closed, open, approval",
        ),
        ("server = 3\n", "[server] must be a table"),
        ("[server\n", "is not valid TOML"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=None) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_reports_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nprot = 1\n")
    assert main(["--config", str(path), "users", "list"]) == 2
    err = capsys.readouterr().err
    assert err == "spark-fed: unknown config key server.prot\n"


def test_unreachable_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pg.toml"
    path.write_text('[database]\nurl = "postgresql+asyncpg://nobody@127.0.0.1:1/none"\n')
    assert main(["--config", str(path), "db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spark-fed: cannot open database postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert err.count("\n") == 1


def test_serve_with_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    """The installed console script itself, as an admin runs it."""
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nport = 'x'\n")
    script = Path(sys.executable).parent / "spark-fed"
    done = subprocess.run(
        [str(script), "--config", str(path), "serve"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == "spark-fed: server.port must be an integer, not str\n"
    assert "Traceback" not in done.stdout


@pytest.mark.parametrize(
    ("domain", "port", "warned"),
    [
        ("localhost:8080", 8081, True),  # the port changed, the domain forgotten
        ("localhost:8081", 8081, False),
        ("spark.example", 8081, False),  # behind a proxy: the domain names no port
        ("[::1]:8080", 8080, False),
        ("[::1]:8080", 9000, True),
    ],
)
def test_a_port_the_domain_does_not_name_is_warned_about(domain: str, port: int, warned: bool) -> None:
    warning = ServerConfig(domain=domain, port=port).domain_port_mismatch()
    assert (warning is not None) == warned
    if warning:
        assert f"server.port is {port} but server.domain is {domain}" in warning
