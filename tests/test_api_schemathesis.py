"""The OpenAPI description against the live API: it names only real routes, and fuzzing finds no 5xx.

Schemathesis runs as its own command (a subprocess: its blocking client on the test's event loop
would deadlock against the server it tests) against a Spark instance on loopback, with a bearer token that
holds `read write follow`. The instance is seeded first (accounts, a follow and a follow request,
posts, a reply, a like, a boost) and the document's `{id}` parameters get those ids as examples,
so that the examples, coverage and fuzzing phases reach real records, not only 404s; the
stateful phase follows the document's links (a new status's id into its own operations).

A fuzzer sends whatever it likes: `acct=x@some.host`, mentions of remote users. Spark's outbound
client is wrapped so that it reaches loopback only; anything else fails as a blocked address
would, and is never contacted.

Every operation of the document is run, not a subset: the JUnit report schemathesis writes is read
back and must name each one. CI runs a bounded number of examples per operation; `make fuzz`
(HYPOTHESIS_PROFILE=long) runs many more. Fuzz suites run once in CI, on SQLite: with
SPARK_TEST_DATABASE_URL set the fuzz run is skipped (the two cheap checks of the document run on
both databases).
"""

import asyncio
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from aiohttp import web
from sqlmodel import select

import api
from api import openapi
from outbox import actions, interactions, posts
from spark_fed.models import Notification
from spark_fed.tokens import create_token, parse_scopes

from . import fuzzing
from .conftest import PG_URL, Spark

ONLY_ON_SQLITE = pytest.mark.skipif(PG_URL is not None, reason="fuzz suites run once, on SQLite")

SPEC = Path(api.__file__).parent / "openapi.yaml"
SEED = 6  # the client-API issue; any fixed number makes the run repeatable
LONG = fuzzing.PROFILE == "long"
MAX_EXAMPLES = 300 if LONG else 10
RUN_TIMEOUT = 7200.0 if LONG else 420.0  # seconds; CI's run takes about a minute, this only stops a hang
# No 5xx, and the answers are what the document says (status, Content-Type, headers, body schema).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
JUNIT = "schemathesis-junit.xml"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def _spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS
    }


def _routes(app: web.Application) -> set[tuple[str, str]]:
    """The app's client-API routes (method, path template), as the document must name them."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "*") or not path.startswith(
            ("/api/", "/oauth/", "/.well-known/oauth-authorization-server")
        ):
            continue
        found.add((route.method, path))
    return found


async def test_openapi_document_names_exactly_the_routes_served(spark: Spark) -> None:
    """Every operation described is routed, and every client-API route is described."""
    described, routed = _operations(_spec()), _routes(spark.app)
    assert sorted(described - routed) == [], "described but not routed (is api.openapi wired?)"
    assert sorted(routed - described) == [], "routed but missing from api/openapi.yaml"


async def test_openapi_document_is_served_as_shipped(aiohttp_client) -> None:
    app = web.Application()
    app.add_routes(openapi.routes)
    client = await aiohttp_client(app)
    resp = await client.get("/api/openapi.yaml")
    assert resp.status == 200
    assert resp.content_type == "application/yaml"
    assert await resp.read() == SPEC.read_bytes()
    assert yaml.safe_load(await resp.text())["openapi"].startswith("3.1")


# --- the fuzz run ---------------------------------------------------------------------------------


async def _seed(spark: Spark) -> tuple[str, dict[str, list[str]]]:
    """Records for the fuzzer to find; returns alice's token and example ids by kind."""
    ctx = spark.ctx
    alice, bob, carol = await spark.user("alice"), await spark.user("bob"), await spark.user("carol")
    await actions.follow(ctx, bob, alice.uri)
    await actions.follow(ctx, alice, bob.uri)
    alice = await actions.update_profile(ctx, alice, locked=True)
    await actions.follow(ctx, carol, alice.uri)  # pending: a follow request for alice
    first = await posts.post(ctx, alice, "Hello #spark, @bob!")
    reply = await posts.post(ctx, bob, "@alice hi", reply_to=first.uri)
    private = await posts.post(ctx, bob, "followers only", visibility="followers")
    hidden = await posts.post(ctx, carol, "just for bob @bob", visibility="direct")
    await interactions.like(ctx, bob, first.uri)
    await interactions.boost(ctx, bob, first.uri)
    token = await create_token(spark.db, alice, parse_scopes("read write follow"))
    async with spark.db.read() as session:
        notes = (await session.exec(select(Notification.id).where(Notification.account_id == alice.id))).all()
    ids = {
        "accounts": [str(a.id) for a in (alice, bob, carol)],
        "statuses": [str(s.id) for s in (first, reply, private, hidden)],
        "follow_requests": [str(carol.id)],
        "notifications": [str(n) for n in notes],
    }
    return token, ids


def _with_examples(spec: dict[str, Any], ids: dict[str, list[str]]) -> dict[str, Any]:
    """SPEC with the seeded ids as examples of every `{id}` path parameter."""
    spec = copy.deepcopy(spec)
    shared = spec["components"]["parameters"]["PathId"]
    for path, item in spec["paths"].items():
        kind = path.split("/")[3] if path.startswith("/api/v1/") else ""
        if "{id}" not in path or kind not in ids:
            continue
        examples = {f"seeded{n}": {"value": value} for n, value in enumerate(ids[kind])}
        item["parameters"] = [
            {**shared, "examples": examples} if p == {"$ref": "#/components/parameters/PathId"} else p
            for p in item.get("parameters", [])
        ]
    return spec


def _command(spec_path: Path, base: str, token: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The schemathesis command line and its environment (no proxies, a scratch HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(NO_PROXY="*", NO_COLOR="1", HOME=str(workdir), XDG_CONFIG_HOME=str(workdir))
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec_path),
        "--url", base,
        "--header", f"Authorization: Bearer {token}",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--request-timeout", "10",
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--continue-on-failure",
        "--no-color",
        "--report", "junit",
        "--report-junit-path", str(workdir / JUNIT),
    ]  # fmt: skip
    return command, env


@ONLY_ON_SQLITE
async def test_fuzzing_the_described_api_finds_no_server_error(spark: Spark, tmp_path: Path) -> None:
    refused: list[str] = []
    fuzzing.loopback_only(spark, refused)
    token, ids = await _seed(spark)
    spec_path = tmp_path / "openapi.json"
    spec_path.write_text(json.dumps(_with_examples(_spec(), ids)), encoding="utf-8")
    command, env = _command(spec_path, spark.base, token, tmp_path)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"schemathesis did not finish within {RUN_TIMEOUT:.0f} s") from None
    report = output.decode("utf-8", "replace")
    print(report)  # shown by pytest when the test fails, or with -s
    print(f"schemathesis ran {time.monotonic() - started:.1f} s; refused outbound: {refused}")
    assert process.returncode == 0, f"schemathesis found server errors:\n{report[-20000:]}"
    untested = sorted(_operations(_spec()) - _tested(tmp_path / JUNIT))
    assert untested == [], f"operations schemathesis did not run: {untested}"


def _tested(junit: Path) -> set[tuple[str, str]]:
    """The operations (method, path) the JUnit report has a test case for."""
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    return {(method, path) for method, _, path in (case.get("name", "").partition(" ") for case in cases)}
