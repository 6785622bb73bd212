"""Shared fixtures: real databases and real Spark instances on loopback.

Every Spark instance a test starts gets a database of its own: a SQLite file
in the test's temporary directory, or, when SPARK_TEST_DATABASE_URL is set, a
fresh PostgreSQL database created beside the one named there and dropped after.
"""

import asyncio
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from spark_fed.accounts import create_local_user
from spark_fed.app import create_app
from spark_fed.config import AuthConfig, Config, DatabaseConfig, FederationConfig, MediaConfig, ServerConfig
from spark_fed.context import Context
from spark_fed.db import Database
from spark_fed.models import Account
from spark_fed.state import CONTEXT, DB

from .openapi import conformance

PG_URL = os.environ.get("SPARK_TEST_DATABASE_URL")
CHEAP_PASSWORDS = AuthConfig(password_memory_kib=64, password_time_cost=1)  # tests hash many passwords
PG_PREFIX = "spark_t_"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _asyncpg_dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of empty databases, one per call, cleaned up after the test."""
    created: list[str] = []

    async def make() -> str:
        name = f"{PG_PREFIX}{uuid.uuid4().hex[:12]}"
        if PG_URL is None:
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL, make_url(PG_URL).database or "postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    if PG_URL is not None and created:
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL, make_url(PG_URL).database or "postgres"))
        try:
            for name in created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def test_config(db_url: str, port: int, **federation: object) -> Config:
    """An instance on loopback; its media go to a directory of their own, removed at exit."""
    return Config(
        server=ServerConfig(domain=f"127.0.0.1:{port}", scheme="http", host="127.0.0.1", port=port),
        database=DatabaseConfig(url=db_url),
        federation=replace(FederationConfig(), allow_private_addresses=True, **federation),
        auth=CHEAP_PASSWORDS,
        media=MediaConfig(path=_media_directory(port)),
    )


_MEDIA_ROOT = tempfile.TemporaryDirectory(prefix="spark-test-media-")


def _media_directory(port: int) -> str:
    return tempfile.mkdtemp(prefix=f"{port}-", dir=_MEDIA_ROOT.name)


test_config.__test__ = False  # a helper, not a test


@dataclass
class Spark:
    """One running Spark instance."""

    server: TestServer
    config: Config

    @property
    def app(self) -> web.Application:
        return self.server.app

    @property
    def db(self) -> Database:
        return self.app[DB]

    @property
    def base(self) -> str:
        return self.config.base_url

    @property
    def domain(self) -> str:
        return self.config.server.domain

    @property
    def ctx(self) -> Context:
        return self.app[CONTEXT]

    async def user(self, name: str, **kwargs: Any) -> Account:
        return await create_local_user(self.db, self.ctx.urls, name, **kwargs)

    async def stop(self) -> None:
        await self.server.close()


@pytest.fixture
async def start_spark(database_url, aiohttp_server) -> AsyncIterator[Callable[..., Awaitable[Spark]]]:
    """Start an instance; pass CONFIG (an earlier instance's) to restart it on its port and data.

    Every client-API answer an instance gives is checked against Mastodon's described shapes
    (`tests/openapi/conformance.py`): a test that received one that is not fails."""
    started: list[web.Application] = []

    async def start(config: Config | None = None, **federation: object) -> Spark:
        if config is None:
            port = free_port()
            config = test_config(await database_url(), port, **federation)
        app = conformance.watch(create_app(config))
        started.append(app)
        server = await aiohttp_server(app, port=config.server.port)
        return Spark(server=server, config=config)

    yield start
    violations = [v for app in started for v in app[conformance.VIOLATIONS]]
    listed = "\n".join(dict.fromkeys(violations))
    assert not violations, f"answers unlike Mastodon's described shapes:\n{listed}"


async def eventually(check: Callable[[], Awaitable[object]], timeout: float = 10.0, what: str = "") -> object:
    """Poll CHECK until it returns something truthy; bounded, so a test never hangs."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check.__name__}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def spark(start_spark) -> Spark:
    return await start_spark()
