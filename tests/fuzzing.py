"""What the route fuzzer sends, and how it sends it: hostile requests for every route of the app.

Strategies build each part of a request (path segments, query, headers, body) from values that have
broken web servers before: numbers past int64, negative and non-ASCII digits, invalid UTF-8 and lone
surrogates, NUL, duplicate JSON keys, deep nesting, wrong types, odd Content-Types and encodings. The
field names come from the API's OpenAPI document and the web templates' form fields, so a parameter
added there is fuzzed without editing this file.

Requests go out through `http.client` from a worker thread: a blocking client never runs on the event
loop of the Spark under test (it would deadlock), and `http.client` lets a test send bytes no polite
client would (a body that is not what its Content-Type says, a gzip header over plain text).
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from aiohttp import web
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from yarl import URL

import api
import web as web_area
from spark_fed.http.client import BlockedAddress

from .conftest import Spark

# CI runs a bounded number of examples per route, derandomized so a run is repeatable; `make fuzz`
# selects the long profile (HYPOTHESIS_PROFILE=long) for a run of many minutes.
_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
    "print_blob": True,
}
settings.register_profile("ci", max_examples=5, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=300, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


# --- the vocabulary: every parameter name the API and the pages read ---------------------------------


def _openapi_names() -> set[str]:
    spec = yaml.safe_load((Path(api.__file__).parent / "openapi.yaml").read_text(encoding="utf-8"))
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and "in" in node:
                names.add(node["name"])
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(str(key) for key in properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return names


def _form_names() -> set[str]:
    templates = Path(web_area.__file__).parent / "templates"
    found: set[str] = set()
    for page in templates.glob("*.html"):
        found.update(re.findall(r'name="([A-Za-z_][\w\[\]]*)"', page.read_text(encoding="utf-8")))
    return found


FIELD_NAMES = sorted(_openapi_names() | _form_names() | {"csrf_token", "next", "id", "account_id"})


# --- values ------------------------------------------------------------------------------------------

NASTY_TEXT = [
    "", " ", "0", "-1", "1", "00", "+1", "1.5", "1e3", "0x1f", "true", "false", "null", "None", "[]", "{}",
    "9" * 19, str(2**63), str(2**64), "9" * 40, "9" * 5000, "-" + "9" * 30, "1e309", "NaN", "Infinity",
    "²", "١٢٣", "１２３", "٣", "a\x00b", "\x00", "\ud800", "\udfff", "a\ud83d", "\ufeff", "\u202e", "𝕏" * 50,
    "x" * 5000, "\n", "line\nbreak", "<script>alert(1)</script>", "javascript:alert(1)",
    "http://127.0.0.1:1/x", "https://[::1]:1/", "acct:alice@127.0.0.1", "@alice", "alice@127.0.0.1",
    "@x@example.invalid", "#tag", "public", "unlisted", "private", "direct", "followers", "2026-13-45",
    "1970-01-01T00:00:00Z", "../../etc/passwd", "%00", "%ff", "read write follow push admin:write",
    "urn:ietf:wg:oauth:2.0:oob", "authorization_code", "client_credentials", "password", "code",
]  # fmt: skip


def nasty_text() -> st.SearchStrategy[str]:
    """Strings, lone surrogates included (Hypothesis leaves those out of `st.text()` by default)."""
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=40),
        st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    )


def values(seeded: Sequence[str]) -> st.SearchStrategy[str]:
    """Scalar values for query strings and forms: seeded ids and names reach real records."""
    return st.one_of(st.sampled_from(list(seeded)), nasty_text())


def _wire_bytes(text: str) -> bytes:
    """Text as bytes on the wire; a lone surrogate becomes invalid UTF-8, as a broken client sends it."""
    return text.encode("utf-8", "surrogatepass")


def encoded(value: str | bytes) -> str:
    raw = value if isinstance(value, bytes) else _wire_bytes(value)
    return quote(raw, safe="")


# --- JSON, written by hand so that it can be wrong in every way json.dumps refuses -----------------


@dataclass(frozen=True)
class Raw:
    """A JSON fragment written as is: a number of 5,000 digits, NaN, a string with a lone surrogate."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A JSON object as a list of pairs, so that a key may repeat."""

    items: list[tuple[str, Any]] = field(default_factory=list)


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    if isinstance(value, float) and value != value:
        return "NaN"
    return json.dumps(value)  # strings: ensure_ascii writes a lone surrogate as its \\u escape


RAW_NUMBERS = st.sampled_from(
    ["1" * 5000, "-" + "9" * 400, "1e999", "-1e-999", "1.0e+400", "NaN", "Infinity", "-Infinity", "0.1e1"]
).map(Raw)


def json_values(seeded: Sequence[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=2**63 - 2, max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        RAW_NUMBERS,
        values(seeded),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=12,
    )


def json_objects(seeded: Sequence[str]) -> st.SearchStrategy[Pairs]:
    """Objects of known fields, a key now and then repeated."""
    pair = st.tuples(st.sampled_from(FIELD_NAMES) | nasty_text(), json_values(seeded))
    return st.lists(pair, max_size=8).flatmap(
        lambda items: (
            st.just(Pairs(items))
            | st.sampled_from(items or [("a", 1)]).map(lambda extra: Pairs([*items, extra]))
        )
    )


def pathological_json() -> st.SearchStrategy[bytes]:
    """Bodies that are (almost) JSON and hurt a naive reader."""
    depth = st.integers(min_value=1, max_value=50_000)
    return st.one_of(
        depth.map(lambda n: ("[" * n + "]" * n).encode()),
        depth.map(lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
        depth.map(lambda n: ("[" * n).encode()),
        st.sampled_from(
            [
                b'{"a":1,"a":2}',
                b'{"status":"x","status":{"a":1}}',
                b'{"type":"Note","type":"Create"}',
                b'"\\ud800"',
                b'{"status":"\\ud800"}',
                b'{"status":"\\u0000"}',
                b'{"\\ud800":1}',
                b"[1e999]",
                b'{"limit":' + b"9" * 5000 + b"}",
                b"NaN",
                b"\xef\xbb\xbf{}",
                b'{"a":"\xff\xfe"}',
                b'{"a":"\xed\xa0\x80"}',
                b"\x00",
                b"",
                b"null",
                b"[]",
                b"{",
            ]
        ),
        st.binary(max_size=200),
    )


# --- bodies ------------------------------------------------------------------------------------------

JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/json; charset=utf-16",
]
ODD_TYPES = [
    "",
    "text/plain",
    "text/html; charset=latin-1",
    "application/octet-stream",
    "a/b/c",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=nope",
    "application/x-www-form-urlencoded; charset=bogus",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/json; charset=nope",
    "\x7f",
]


@dataclass
class Body:
    content_type: str | None
    data: bytes


def form_body(pairs: Iterable[tuple[str, str]]) -> bytes:
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in pairs).encode("ascii")


TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
FILE_CONTENTS = st.one_of(
    st.sampled_from(
        [
            TINY_PNG,
            TINY_PNG[:30],
            b"GIF89a\xff\xff\xff\xff" + b"\x00" * 20,
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"PK\x03\x04" + b"\x00" * 30,
            b"",
        ]
    ),
    st.binary(max_size=300),
)


def multipart_body(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes, str]], boundary: str
) -> bytes:
    parts = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(_wire_bytes(head) + _wire_bytes(value) + b"\r\n")
    for name, filename, content, ctype in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        )
        parts.append(_wire_bytes(head) + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def bodies(seeded: Sequence[str], csrf: str | None) -> st.SearchStrategy[Body | None]:
    """Any body, with a valid CSRF token most of the time so that form handlers run past the check."""
    key = st.sampled_from(FIELD_NAMES) | st.sampled_from(FIELD_NAMES).map(lambda n: n + "[]") | nasty_text()
    pairs = st.lists(st.tuples(key, values(seeded)), max_size=8)
    with_token = pairs.map(lambda p: [("csrf_token", csrf), *p] if csrf else p)
    name_part = st.text(st.characters(min_codepoint=0x20, exclude_characters='"\r\n'), max_size=12)
    files = st.lists(
        st.tuples(
            st.sampled_from(["file", "image", "archive", "avatar", "header", "media"]) | name_part,
            name_part,
            FILE_CONTENTS,
            st.sampled_from(["image/png", "image/gif", "application/zip", "text/plain", "x"]),
        ),
        max_size=2,
    )
    boundary = "spark-fuzz-boundary"
    return st.one_of(
        st.none(),
        st.builds(
            Body,
            st.sampled_from(JSON_TYPES),
            json_objects(seeded).map(lambda v: _wire_bytes(dump(v))),
        ),
        st.builds(
            Body,
            st.sampled_from(["application/x-www-form-urlencoded", *ODD_TYPES]),
            with_token.map(form_body),
        ),
        st.builds(
            Body,
            st.just(f"multipart/form-data; boundary={boundary}"),
            st.builds(multipart_body, with_token, files, st.just(boundary)),
        ),
        st.builds(Body, st.sampled_from(JSON_TYPES + ODD_TYPES) | st.none(), pathological_json()),
    )


# --- headers -----------------------------------------------------------------------------------------

HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
STRANGE_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Accept",
            "Accept-Language",
            "Accept-Encoding",
            "If-None-Match",
            "If-Modified-Since",
            "Range",
            "Cookie",
            "Authorization",
            "Signature",
            "Signature-Input",
            "Date",
            "Digest",
            "Content-Digest",
            "X-Forwarded-For",
            "Forwarded",
            "Origin",
            "Referer",
            "User-Agent",
            "Sec-Fetch-Site",
            "Idempotency-Key",
        ]
    ),
    st.sampled_from(
        [
            "text/html",
            "application/activity+json",
            "*/*;q=abc",
            "application/json;;;",
            "Bearer",
            "Bearer \x7f",
            "Bearer \xff\xfe",
            'keyId="https://127.0.0.1:1/\xff",headers="(request-target) host date",signature="AA=="',
            'sig1=("@method" "@target-uri");keyid="\xff";created=1',
            "Basic Zm9vOmJhcg==",
            'keyId="x",signature="%%%"',
            "bytes=9-1",
            "bytes=0-99999999999999999999",
            "spark_session=\xff",
            "SHA-256=??",
            "Mon, 32 Foo 99999 99:99:99 GMT",
            "null",
        ]
    )
    | HEADER_TEXT,
    max_size=3,
)


# --- routes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # the router's path, `{name}` or `{name:regex}` where a segment varies


def routes_of(app: web.Application) -> list[Route]:
    """Every route the app serves (HEAD answers as GET does): a route added later is fuzzed too."""
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path")
        if template is None or route.method == "HEAD":
            continue
        if "prefix" in info:  # a static directory
            template = info["prefix"] + "/{name}"
        found.add(Route("GET" if route.method == "*" else route.method, template))
    return sorted(found, key=lambda r: (r.template, r.method))


def paths(route: Route, seeded: Mapping[str, Sequence[str]]) -> st.SearchStrategy[str]:
    """The route's path with each `{name}` filled: half the time a real record's id or name (SEEDED,
    by placeholder name, `id` for the rest), else something hostile."""
    segments = []
    for name, regex in _PLACEHOLDER.findall(route.template):
        real = st.sampled_from(list(seeded.get(name, seeded["id"])))
        if regex:
            real = st.from_regex(rf"\A(?:{regex})\Z").filter(lambda s: "/" not in s)
        segments.append(st.one_of(real, st.one_of(nasty_text(), st.binary(min_size=1, max_size=12))))

    def fill(parts: tuple[str | bytes, ...]) -> str:
        it = iter(parts)
        path = _PLACEHOLDER.sub(lambda _m: encoded(next(it)) or "-", route.template)
        return path

    return st.tuples(*segments).map(fill)


def queries(seeded: Sequence[str]) -> st.SearchStrategy[str]:
    key = (
        st.sampled_from(FIELD_NAMES).flatmap(
            lambda n: st.sampled_from([n, n + "[]", n + "[0]", n + "[a][b]"])
        )
        | nasty_text()
    )
    pairs = st.lists(st.tuples(key, values(seeded)), max_size=6)
    return pairs.map(lambda p: "&".join(f"{encoded(k)}={encoded(v)}" for k, v in p))


# --- keeping Spark on loopback ---------------------------------------------------------------------

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def loopback_only(spark: Spark, refused: list[str]) -> None:
    """Make the outbound client refuse every host but loopback, before any socket is opened."""
    http = spark.ctx.http
    real_get, real_post = http.get, http.post

    def check(url: object) -> None:
        host = URL(str(url)).host
        if host not in LOOPBACK:
            refused.append(str(url))
            raise BlockedAddress(f"the test lets Spark reach loopback only, not {host}", str(url))

    async def get(url, headers=None, **kwargs):
        check(url)
        return await real_get(url, headers, **kwargs)

    async def post(url, body, headers=None):
        check(url)
        return await real_post(url, body, headers)

    http.get, http.post = get, post


# --- sending -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


def send(
    host: str, port: int, method: str, target: str, headers: dict[str, str], body: bytes | None
) -> Answer:
    """One request on a fresh connection, with exactly these bytes."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest(method, target, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value.encode("latin-1"))
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        conn.close()


def one_line_error(answer: Answer) -> str | None:
    """The problem with a 4xx answer's message, or None when it is one short line.

    Spark's errors are JSON for programs (the fuzzer asks for JSON or nothing) and a page for browsers."""
    ctype = answer.content_type.split(";")[0].strip()
    if ctype == "application/json":
        try:
            document = json.loads(answer.body)
        except ValueError:
            return "a JSON error that is not JSON"
        message = document.get("error") if isinstance(document, dict) else None
        if not isinstance(message, str) or not message.strip():
            return f"a JSON error without an `error` message: {answer.body[:200]!r}"
        if "\n" in message or len(message) > 500:
            return f"an error message that is not one line: {message[:200]!r}"
    return None  # aiohttp's parser answers a malformed request line or header in text, before Spark


# --- activities for the inbox, signed ---------------------------------------------------------------

ACTIVITY_TYPES = [
    "Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Like", "Announce", "Block",
    "Flag", "Move", "Add", "Remove", "EmojiReact", "Note", "",
]  # fmt: skip
OBJECT_FIELDS = [
    "id", "type", "content", "contentMap", "summary", "sensitive", "published", "updated", "inReplyTo",
    "attributedTo", "to", "cc", "tag", "attachment", "url", "name", "icon", "image", "object", "actor",
    "quoteUrl", "mediaType", "href", "width", "height", "blurhash", "focalPoint", "preferredUsername",
    "inbox", "endpoints", "publicKey", "manuallyApprovesFollowers",
]  # fmt: skip


def activities(actor: str, targets: Sequence[str]) -> st.SearchStrategy[Pairs]:
    """Activities by ACTOR (so they pass the signer check) whose every other field may be hostile;
    TARGETS (local actors and posts) make Follows, Likes and replies name real things."""
    seeded = [*targets, actor, f"{actor}/statuses/1", "https://www.w3.org/ns/activitystreams#Public"]
    plausible = st.one_of(
        st.sampled_from(seeded),
        st.lists(st.sampled_from(seeded), max_size=3),
        st.text(max_size=80),
        st.integers(-(2**63), 2**63),
        st.sampled_from(["2026-01-01T00:00:00Z", "0000-00-00", "Note", "Image", "Mention", "Hashtag"]),
    )
    field_value = plausible | json_values(seeded)
    fields = st.lists(
        st.tuples(st.sampled_from(OBJECT_FIELDS), field_value), max_size=8, unique_by=lambda kv: kv[0]
    )
    obj = fields.map(lambda items: Pairs([("type", "Note"), ("attributedTo", actor), *items]))
    own = {"type", "actor", "object", "id"}
    return st.builds(
        lambda kind, target, more, activity_id: Pairs(
            [("type", kind), ("actor", actor), ("object", target), *more, *activity_id]
        ),
        st.sampled_from(ACTIVITY_TYPES) | nasty_text(),
        obj | st.sampled_from(seeded) | field_value,
        fields.map(lambda items: [kv for kv in items if kv[0] not in own]),
        st.just([]) | st.uuids().map(lambda u: [("id", f"{actor}/activities/{u}")]),
    )
