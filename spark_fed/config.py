"""Configuration: a TOML file checked strictly against the known keys.

A typo in a key must stop start-up with a line naming it, not be silently
ignored, so every section is a dataclass and every key is checked for name and
type before Spark touches the database.
"""

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class ServerConfig:
    domain: str = "localhost:8080"
    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = 8080
    # Server processes sharing the port (SO_REUSEPORT): one per core for a busy instance.
    processes: int = 1
    # Run the delivery and inbox workers inside `serve`; false when `spark-fed worker`
    # processes do that work, so that the server's core only answers requests.
    run_workers: bool = True
    # "common": one line per request on standard output in the Common Log Format, which log
    # analysers read; "off" (the default) keeps a small server's disk and journal quiet.
    access_log: str = "off"

    def domain_port_mismatch(self) -> str | None:
        """A warning when the domain names a port the server does not listen on, else None.

        Changing `port` alone is the natural first try to serve elsewhere, but every id and link
        is built from `domain`, so peers and browsers would be sent to the old port. A domain
        without a port (behind a proxy) names none, and is never warned about.
        """
        _host, colon, port = self.domain.rpartition(":")
        if not colon or not port.isdigit() or int(port) == self.port:
            return None
        return (
            f"server.port is {self.port} but server.domain is {self.domain}: ids and links still name"
            f' port {port}; set server.domain too (for example "localhost:{self.port}")'
        )


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///data/spark.db"


@dataclass(frozen=True)
class FederationConfig:
    allow_private_addresses: bool = False
    # Hosts (host or host:port) the outbound client may reach although they
    # resolve to private addresses; tests list their loopback peers here.
    allowed_hosts: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    # Outbound limits, each for its own failure (seconds): DNS + TCP + TLS; from the request sent
    # to the answer's first byte (and between later reads); the whole request, so a peer that
    # trickles a byte a second is cut off. Short, so a dead host holds a delivery only briefly.
    connect_timeout: float = 5.0
    first_byte_timeout: float = 10.0
    request_timeout: float = 30.0
    # A poll's new counts go out this long after the first vote of a burst, in one Update.
    poll_update_seconds: float = 180.0


@dataclass(frozen=True)
class DeliveryConfig:
    # Deliveries in flight at once in each worker process: a waiting one costs a task and a
    # socket (the file limit is raised to fit), so this is large and dead hosts cannot fill it.
    concurrency: int = 2048
    # Requests in flight to one host at a time, across workers: what one host can occupy.
    per_host: int = 16
    # Requests in flight to failing hosts (not paused yet), all of them together across
    # workers: hosts that hang cost this many sockets, not the worker's slots.
    failing_slots: int = 64
    # A claimed job's lease; renewed while it runs, so a dead worker's jobs return this fast.
    lease_seconds: float = 30.0
    # Consecutive failures after which a host is paused (its deliveries kept, not tried), and
    # the first pause in seconds; each failed probe doubles it, up to an hour.
    pause_after: int = 3
    pause_seconds: float = 30.0


@dataclass(frozen=True)
class InstanceConfig:
    title: str = "Spark"
    description: str = "A small Spark server."
    contact_email: str = ""
    registrations: str = "closed"
    max_post_chars: int = 500
    # The server's rules, one string each: shown on the about and sign-up pages, in the instance
    # API (`/api/v1/instance/rules`, ids "1", "2", … in this order) and offered in reports.
    rules: tuple[str, ...] = ()
    # Polls: at most this many options, each at most this many characters (Mastodon's defaults).
    max_poll_options: int = 4
    max_poll_option_chars: int = 50


@dataclass(frozen=True)
class AuthConfig:
    # argon2id cost: each hash takes this much memory (KiB) and this many passes.
    password_memory_kib: int = 65536
    password_time_cost: int = 3


@dataclass(frozen=True)
class MediaConfig:
    # Uploads and the remote cache, content-addressed (relative to the working directory).
    path: str = "data/media"
    max_upload_mb: int = 16
    # Checked from the file's header before anything is decoded (a decompression bomb stops here).
    max_pixels: int = 33_177_600
    # The remote cache's disk budget; local uploads and media local users interacted with are
    # never evicted by it.
    remote_cache_max_gb: float = 1.0

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def remote_cache_max_bytes(self) -> int:
        return int(self.remote_cache_max_gb * 1024**3)


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    instance: InstanceConfig = field(default_factory=InstanceConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)

    @property
    def base_url(self) -> str:
        """The origin that every local id starts with."""
        return f"{self.server.scheme}://{self.server.domain}"


MAX_RULES = 100
MAX_RULE_CHARS = 1000

_CHOICES = {
    ("server", "scheme"): ("http", "https"),
    ("server", "access_log"): ("off", "common"),
    ("instance", "registrations"): ("closed", "open", "approval"),
}


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read PATH (or $SPARK_CONFIG); with neither, the development defaults."""
    chosen = path if path is not None else os.environ.get("SPARK_CONFIG")
    if not chosen:
        return Config()
    file = Path(chosen)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file} is not UTF-8 text") from None
    return config_from_dict(raw)


def config_from_dict(raw: dict[str, Any]) -> Config:
    sections = {f.name: f for f in dataclasses.fields(Config)}
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(f"unknown config section [{name}]")
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table")
        section_type = typing.get_type_hints(Config)[name]
        built[name] = _build_section(name, section_type, value)
    config = Config(**built)
    _check_values(config)
    return config


def _build_section(section: str, cls: type, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"unknown config key {section}.{key}")
        kwargs[key] = _coerce(f"{section}.{key}", hints[key], value)
        choices = _CHOICES.get((section, key))
        if choices and kwargs[key] not in choices:
            raise ConfigError(f"{section}.{key} must be one of {', '.join(choices)}, not {value!r}")
    return cls(**kwargs)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
            raise ConfigError(f"{name} must be a list of {item_type.__name__}")
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # TOML's `1` for a size in GB
    # bool is an int subclass: `port = true` must not pass as a number.
    if isinstance(value, bool) != (hint is bool) or not isinstance(value, hint):
        raise ConfigError(f"{name} must be {_type_word(hint)}, not {type(value).__name__}")
    return value


def _type_word(hint: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, hint.__name__
    )


def _check_values(config: Config) -> None:
    server = config.server
    if not server.domain or "/" in server.domain or " " in server.domain:
        raise ConfigError("server.domain must be a host name with an optional :port, like example.com")
    if not 0 < server.port < 65536:
        raise ConfigError("server.port must be between 1 and 65535")
    if not 1 <= server.processes <= 64:
        raise ConfigError("server.processes must be between 1 and 64")
    if not config.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError("database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    if config.instance.max_post_chars < 1:
        raise ConfigError("instance.max_post_chars must be at least 1")
    rules = config.instance.rules
    if len(rules) > MAX_RULES or any(not rule.strip() or len(rule) > MAX_RULE_CHARS for rule in rules):
        raise ConfigError(
            f"instance.rules must be at most {MAX_RULES} non-empty strings"
            f" of at most {MAX_RULE_CHARS} characters each"
        )
    if not 8 <= config.auth.password_memory_kib <= 4_194_304 or not 1 <= config.auth.password_time_cost <= 20:
        raise ConfigError("auth.password_memory_kib must be 8..4194304 and auth.password_time_cost 1..20")
    media = config.media
    if not media.path or not 1 <= media.max_upload_mb <= 1024 or not 1 <= media.max_pixels <= 500_000_000:
        raise ConfigError(
            "media.path must be set, media.max_upload_mb 1..1024 and media.max_pixels 1..500000000"
        )
    if media.remote_cache_max_gb < 0:
        raise ConfigError("media.remote_cache_max_gb must not be negative")
    if config.federation.max_body_bytes < 1024:
        raise ConfigError("federation.max_body_bytes must be at least 1024")
    _check_delivery(config)


def _check_delivery(config: Config) -> None:
    federation, delivery = config.federation, config.delivery
    timeouts = (federation.connect_timeout, federation.first_byte_timeout, federation.request_timeout)
    if not all(0 < t <= 600 for t in timeouts):
        raise ConfigError("federation.connect_timeout, first_byte_timeout and request_timeout must be 0..600")
    if not 1 <= delivery.concurrency <= 10_000 or not 1 <= delivery.per_host <= delivery.concurrency:
        raise ConfigError("delivery.concurrency must be 1..10000 and delivery.per_host 1..concurrency")
    if not 1 <= delivery.failing_slots <= delivery.concurrency:
        raise ConfigError("delivery.failing_slots must be 1..concurrency")
    if not 1 <= delivery.lease_seconds <= 3600 or not 1 <= delivery.pause_after <= 1000:
        raise ConfigError("delivery.lease_seconds must be 1..3600 and delivery.pause_after 1..1000")
    if not 0 < delivery.pause_seconds <= 3600:
        raise ConfigError("delivery.pause_seconds must be 0..3600")
