"""Every client-API answer Spark gives, checked against the community description of Mastodon's API.

`mastodon-openapi.json` (see README.md beside it) describes each Mastodon endpoint's answers by
path, method and status. `watch(app)` puts a middleware in front of a Spark app that checks the
JSON body of every answer to a request the description names, whoever made the request (the API
tests, Mastodon.py, toot, schemathesis), and records what does not match; the test fixtures
fail the test that saw it. So every test that talks to the API is also a conformance test.

The description is not the last word: where it is wrong about Mastodon's own behaviour, or where
Spark deliberately answers otherwise, `DEVIATIONS` changes the description before it is used,
and each change says why. Nothing else is relaxed.
"""

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).with_name("mastodon-openapi.json")
BASE = "urn:mastodon-openapi"
METHODS = frozenset({"get", "put", "post", "delete", "patch"})
VIOLATIONS: web.AppKey[list[str]] = web.AppKey("openapi_violations", list)
# (METHOD, route template, status) of every answer checked: what a test has covered.
SEEN: web.AppKey[set[tuple[str, str, int]]] = web.AppKey("openapi_seen", set)


@dataclass(frozen=True)
class Deviation:
    """One change to the description: at POINTER (a JSON pointer into it), REPLACE the value, or,
    when REPLACE is None, remove the entry; where the last step is into a list (`required`), it
    names the value to remove. REASON says why, for the reader of a failure."""

    pointer: str
    replace: Any
    reason: str


DEVIATIONS: tuple[Deviation, ...] = (
    # Where the description is wrong about Mastodon itself.
    Deviation(
        "/components/schemas/ValidationError/required/details",
        None,
        'Mastodon\'s 422 is `{"error": "Validation failed: ..."}` without `details` (its API error '
        "handling renders the message alone), and so is Spark's",
    ),
    *(
        Deviation(
            pointer,
            None,
            "Mastodon serves its setting as it is, an empty string when the admin gave no contact "
            "address; so does Spark with `[instance] contact_email` unset",
        )
        for pointer in (
            "/components/schemas/V1Instance/properties/email/format",
            "/components/schemas/Instance/properties/contact/properties/email/format",
        )
    ),
    *(
        Deviation(
            f"/paths/~1oauth~1authorize/get/responses/{status}/content",
            None,
            "the authorization page is for a person's browser: Mastodon (Doorkeeper's error page) and "
            "Spark answer a bad request to it with HTML, not JSON",
        )
        for status in ("400", "401")
    ),
    Deviation(
        "/components/schemas/Status/properties/quote",
        {
            "description": "Information about the status being quoted, if any",
            "anyOf": [
                {"$ref": "#/components/schemas/Quote"},
                {"$ref": "#/components/schemas/ShallowQuote"},
                {"type": "null"},
            ],
        },
        "`oneOf` Quote or ShallowQuote can never hold: both require only `state` and allow other "
        "properties, so every quote Mastodon serves matches both; either shape is what is meant",
    ),
    # Where Spark deliberately answers otherwise.
    Deviation(
        "/components/schemas/CredentialApplication/properties/vapid_key/type",
        ["string", "null"],
        "Spark offers no Web Push, so it has no VAPID key to give; null says so, where a made-up key "
        "would send apps to subscribe to a push endpoint that does not exist",
    ),
    Deviation(
        "/components/schemas/DiscoverOauthServerConfigurationResponse/required/userinfo_endpoint",
        None,
        "Spark is not an OpenID Connect provider and serves no userinfo endpoint; naming one would "
        "send clients to a 404",
    ),
)


def _walk(document: Any, pointer: str) -> tuple[Any, str]:
    """The container of POINTER's last step, and that step."""
    *steps, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = document
    for step in steps:
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node, last


def apply(document: dict[str, Any], deviation: Deviation) -> None:
    """Change DOCUMENT as DEVIATION says; a pointer that names nothing is an error, so a
    deviation cannot outlive the part of the description it was written for."""
    node, last = _walk(document, deviation.pointer)
    if isinstance(node, list):
        if deviation.replace is None:
            node.remove(last)  # a list step names a value to drop, e.g. a required property
        else:
            node[int(last)] = deviation.replace
        return
    if last not in node:
        raise KeyError(f"{deviation.pointer} names nothing in the description")
    if deviation.replace is None:
        del node[last]
    else:
        node[last] = deviation.replace


@cache
def description() -> dict[str, Any]:
    """The description with the deviations applied."""
    document = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    for deviation in DEVIATIONS:
        apply(document, deviation)
    return document


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(description(), default_specification=DRAFT202012)
    return Registry().with_resource(BASE, resource)


def _template(path: str) -> str:
    """A path template with its parameters unnamed and no trailing slash, so that Spark's route
    `/api/v1/instance/` and the description's `/api/v1/instance` meet."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/")) or "/"


def _escape(step: str) -> str:
    return step.replace("~", "~0").replace("/", "~1")


@cache
def _operations() -> dict[tuple[str, str], str]:
    """(METHOD, unnamed template) to the JSON pointer of the operation in the description."""
    found = {}
    for path, item in description()["paths"].items():
        for method in item:
            if method in METHODS:
                found[(method.upper(), _template(path))] = f"/paths/{_escape(path)}/{method}"
    return found


def operation_of(method: str, route_path: str) -> str | None:
    return _operations().get((method, _template(route_path)))


def _resolve(pointer: str) -> Any:
    node, last = _walk(description(), pointer)
    return node[last]


FORMATS = FormatChecker(["email"])


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 as Mastodon writes it: a date, a time and a zone (`2019-11-26T22:37:25.239Z`)."""
    return not isinstance(value, str) or ("T" in value and datetime.fromisoformat(value).tzinfo is not None)


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and bool(date.fromisoformat(value)))


def problems(method: str, route_path: str, status: int, content_type: str, body: bytes) -> Iterator[str]:
    """What is wrong with one answer, by the description; nothing for an undescribed route."""
    pointer = operation_of(method, route_path)
    if pointer is None:
        return
    where = f"{method} {route_path} {status}"
    responses = _resolve(pointer)["responses"]
    if str(status) in responses:
        schema_pointer = f"{pointer}/responses/{status}/content/application~1json/schema"
        try:
            _resolve(schema_pointer)
        except KeyError:
            return  # described without a body (such as 410 Gone): nothing to check
    elif status >= 400:
        schema_pointer = "/components/schemas/Error"  # every error of Mastodon's has this shape
    else:
        yield f"{where}: the description has no such status for this operation"
        return
    if content_type != "application/json":
        yield f"{where}: Content-Type {content_type!r}, not application/json"
        return
    try:
        instance = json.loads(body)
    except ValueError:
        yield f"{where}: the body is not JSON"
        return
    validator = Draft202012Validator(
        {"$ref": f"{BASE}#{schema_pointer}"}, registry=_registry(), format_checker=FORMATS
    )
    for error in validator.iter_errors(instance):
        # A `oneOf` (a status or null, say) fails as a whole: name the deepest reason instead.
        detail = best_match(error.context) if error.context else error
        yield f"{where}: at {detail.json_path}: {detail.message[:300]}"


def watch(app: web.Application) -> web.Application:
    """Check every answer APP gives; what fails is listed under `app[VIOLATIONS]`, what was
    checked under `app[SEEN]`."""
    app[VIOLATIONS] = []
    app[SEEN] = set()

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        response = await handler(request)
        route = request.match_info.route.resource
        if route is not None and isinstance(response, web.Response) and response.body is not None:
            body = response.body if isinstance(response.body, bytes) else b""
            found = problems(request.method, route.canonical, response.status, response.content_type, body)
            app[VIOLATIONS].extend(found)
            if operation_of(request.method, route.canonical) is not None:
                app[SEEN].add((request.method, route.canonical, response.status))
        return response

    app.middlewares.insert(0, check)  # outermost: it sees the answers the error middleware makes
    return app
