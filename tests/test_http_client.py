"""The outbound client against real servers on loopback: limits, redirects and the address guard.

Nothing here contacts anything but 127.0.0.1; public addresses such as 8.8.8.8 are only
classified. "Never contacted" is checked with a raw TCP listener that counts connections, which
is stricter than counting HTTP requests.
"""

import asyncio
import gzip
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import FrozenInstanceError, dataclass, replace

import pytest
from aiohttp import web
from yarl import URL

from spark_fed import __version__
from spark_fed.config import Config
from spark_fed.errors import ConfigError
from spark_fed.http.addresses import AddressPolicy, is_public_address, parse_allowed_host
from spark_fed.http.client import (
    BlockedAddress,
    FetchError,
    HttpClient,
    InvalidUrl,
    NetworkError,
    Response,
    ResponseTooLarge,
    TooManyRedirects,
    host_header,
    wire_url,
)

# --- helpers ----------------------------------------------------------------------------------


def make_config(**federation: object) -> Config:
    base = Config()
    return replace(base, federation=replace(base.federation, **federation))


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Listener:
    """A raw TCP server on 127.0.0.1 that counts connections and answers `200 ok` to anything."""

    port: int = 0
    connections: int = 0

    def url(self, host: str = "127.0.0.1", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def make_listener() -> AsyncIterator[Callable[[], Awaitable[Listener]]]:
    servers: list[asyncio.Server] = []

    async def make() -> Listener:
        state = Listener()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            state.connections += 1
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        state.port = server.sockets[0].getsockname()[1]
        return state

    yield make
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def listener(make_listener) -> Listener:
    return await make_listener()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., HttpClient]]:
    """Clients built from a config (private addresses allowed unless the test says otherwise)."""
    made: list[HttpClient] = []

    def make(config: Config | None = None, **options: object) -> HttpClient:
        client = HttpClient(config or make_config(allow_private_addresses=True), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def echo(request: web.Request) -> web.Response:
    """What arrived: method, headers in order, and the body."""
    return web.json_response(
        {
            "method": request.method,
            "headers": [[name, value] for name, value in request.headers.items()],
            "body": (await request.read()).decode("latin-1"),
            "path": request.path_qs,
            "raw_path": request.raw_path,
        }
    )


def response_json(response: Response) -> dict:
    return json.loads(response.body)


async def serve(aiohttp_server, *routes: web.RouteDef):
    app = web.Application()
    app.add_routes(list(routes))
    return await aiohttp_server(app)


# --- round trips ------------------------------------------------------------------------------


async def test_get_sends_the_callers_headers_unchanged_with_sparks_user_agent(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.get("/users/alice", echo))
    config = make_config(allow_private_addresses=True)
    client = client_for(config)
    url = str(server.make_url("/users/alice?page=1"))
    sent = {
        "Host": client.host_header(url),
        "Date": "Sun, 06 Nov 1994 08:49:37 GMT",
        "Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "Signature": (
            'keyId="https://x.test/actor#main-key",algorithm="rsa-sha256",'
            'headers="(request-target) host date",signature="c2ln"'
        ),
    }

    response = await client.get(url, sent)

    assert isinstance(response, Response)
    assert response.status == 200
    assert response.url == url
    assert response.content_type == "application/json"
    got = response_json(response)
    received = dict(got["headers"])
    assert got["method"] == "GET"
    assert got["path"] == "/users/alice?page=1"
    for name, value in sent.items():
        assert received[name] == value
    assert received["User-Agent"] == f"Spark/{__version__} (+{config.base_url}/)"
    assert received["User-Agent"] == "Spark/0.1.0 (+http://localhost:8080/)"
    assert received["Host"] == f"127.0.0.1:{server.port}"
    # Only headers no signature covers are added.
    assert set(received) - set(sent) <= {"User-Agent", "Accept-Encoding"}


async def test_post_sends_the_exact_bytes_and_headers_and_adds_no_content_type(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.post("/inbox", echo))
    client = client_for()
    url = str(server.make_url("/inbox"))
    body = '{"type":"Follow","x":"é\\u0000"}'.encode()
    sent = {
        "Content-Type": "application/activity+json",
        "Digest": "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "Date": "Sun, 06 Nov 1994 08:49:37 GMT",
        "Signature": (
            'keyId="k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2ln"'
        ),
    }

    response = await client.post(url, body, sent)

    got = response_json(response)
    received = dict(got["headers"])
    assert got["method"] == "POST"
    assert got["body"].encode("latin-1") == body
    for name, value in sent.items():
        assert received[name] == value
    assert received["Content-Length"] == str(len(body))
    assert set(received) - set(sent) <= {"Host", "User-Agent", "Accept-Encoding", "Content-Length", "Accept"}

    bare = response_json(await client.post(url, b"x"))
    assert "Content-Type" not in dict(bare["headers"])


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/users/a", "example.com"),
        ("https://example.com:443/users/a", "example.com"),
        ("http://example.com:80/", "example.com"),
        ("https://example.com:8443/", "example.com:8443"),
        ("http://example.com:443/", "example.com:443"),
        ("https://EXAMPLE.com/", "example.com"),
        ("https://bücher.example/", "xn--bcher-kva.example"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://127.0.0.1:9000/x#frag", "127.0.0.1:9000"),
    ],
)
def test_host_header_is_host_and_port_as_sent(url: str, host: str) -> None:
    assert host_header(url) == host
    assert HttpClient.host_header(url) == host


@pytest.mark.parametrize(
    ("url", "wire"),
    [
        ("https://example.com/users/%7Ealice#main-key", "https://example.com/users/~alice"),
        ("https://EXAMPLE.com:443/a/./b/../c?q=1", "https://example.com/a/c?q=1"),
        ("https://bücher.example/a b", "https://xn--bcher-kva.example/a%20b"),
    ],
)
def test_wire_url_is_the_form_that_is_sent(url: str, wire: str) -> None:
    assert wire_url(url) == wire


async def test_the_path_that_arrives_is_the_wire_url_path(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.post("/{tail:.*}", echo))
    url = str(server.make_url("/")) + "u/%7Ealice/./inbox?x=%41#frag"
    got = response_json(await client_for().post(url, b"{}"))
    assert got["raw_path"] == "/u/~alice/inbox?x=A" == URL(wire_url(url)).raw_path_qs


async def test_client_is_an_async_context_manager_and_cannot_be_used_after_close(listener):
    async with HttpClient(make_config(allow_private_addresses=True)) as client:
        assert (await client.get(listener.url())).body == b"ok"
    with pytest.raises(RuntimeError):
        await client.get(listener.url())
    await client.close()  # closing twice is harmless


def test_response_is_frozen() -> None:
    response = Response(status=200, headers=None, body=b"", url="http://x.test/")  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        response.status = 500  # type: ignore[misc]


# --- body cap ---------------------------------------------------------------------------------


async def stream_2mb(request: web.Request) -> web.StreamResponse:
    """2 MB in 64 KiB chunks with chunked encoding: no Content-Length to trust or distrust."""
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for _ in range(32):
            await response.write(b"x" * 65536)
    except ConnectionError:
        pass  # the client hung up at the cap, as it should
    return response


async def test_a_streamed_body_past_1_mb_is_cut_off(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.get("/big", stream_2mb))
    client = client_for()
    assert client.max_body_bytes == 1_048_576
    with pytest.raises(ResponseTooLarge) as caught:
        await client.get(str(server.make_url("/big")))
    assert not caught.value.retryable


async def test_the_cap_counts_bytes_and_allows_exactly_the_cap(aiohttp_server, client_for):
    async def sized(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"y" * int(request.query["n"]))
        return response

    server = await serve(aiohttp_server, web.get("/sized", sized))
    client = client_for(max_body_bytes=2048)
    assert len((await client.get(str(server.make_url("/sized?n=2048")))).body) == 2048
    with pytest.raises(ResponseTooLarge):
        await client.get(str(server.make_url("/sized?n=2049")))
    # A per-call cap overrides the client's.
    assert len((await client.get(str(server.make_url("/sized?n=4000")), max_body_bytes=4000)).body) == 4000


async def test_a_declared_content_length_past_the_cap_fails_before_reading(aiohttp_server, client_for):
    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"z" * 5000)

    server = await serve(aiohttp_server, web.get("/declared", declared))
    with pytest.raises(ResponseTooLarge, match="announces 5000 bytes"):
        await client_for(max_body_bytes=4096).get(str(server.make_url("/declared")))


async def test_a_small_gzip_body_that_inflates_past_the_cap_is_cut_off(aiohttp_server, client_for):
    bomb = gzip.compress(b"\0" * 2_000_000)
    assert len(bomb) < 10_000

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    server = await serve(aiohttp_server, web.get("/bomb", gzipped))
    with pytest.raises(ResponseTooLarge):
        await client_for().get(str(server.make_url("/bomb")))


# --- redirects --------------------------------------------------------------------------------


async def redirect_chain(request: web.Request) -> web.Response:
    """/r/N redirects to /r/N-1, alternately with an absolute and a relative Location."""
    n = int(request.match_info["n"])
    if n == 0:
        return web.Response(text="arrived")
    location = f"/r/{n - 1}" if n % 2 else str(request.url.with_path(f"/r/{n - 1}"))
    raise web.HTTPFound(location)


async def test_a_chain_of_three_redirects_is_followed_and_the_final_url_reported(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.get("/r/{n}", redirect_chain))
    response = await client_for().get(str(server.make_url("/r/3")))
    assert response.status == 200
    assert response.body == b"arrived"
    assert response.url == str(server.make_url("/r/0"))


async def test_a_fourth_redirect_is_refused(aiohttp_server, client_for):
    server = await serve(aiohttp_server, web.get("/r/{n}", redirect_chain))
    with pytest.raises(TooManyRedirects) as caught:
        await client_for().get(str(server.make_url("/r/4")))
    assert not caught.value.retryable


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_every_redirect_status_is_followed_for_get(aiohttp_server, client_for, status):
    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": "/here"})

    server = await serve(aiohttp_server, web.get("/old", moved), web.get("/here", echo))
    response = await client_for().get(str(server.make_url("/old")))
    assert response_json(response)["path"] == "/here"


async def test_a_3xx_without_location_is_returned_as_is(aiohttp_server, client_for):
    async def odd(request: web.Request) -> web.Response:
        return web.Response(status=302, text="nowhere")

    server = await serve(aiohttp_server, web.get("/odd", odd))
    response = await client_for().get(str(server.make_url("/odd")))
    assert (response.status, response.body) == (302, b"nowhere")


async def test_a_post_is_never_redirected(aiohttp_server, client_for):
    hits: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.method)
        return web.Response(text="should not be reached")

    server = await serve(aiohttp_server, web.post("/inbox", moved), web.route("*", "/elsewhere", elsewhere))
    response = await client_for().post(str(server.make_url("/inbox")), b"{}")
    assert response.status == 307
    assert response.headers["Location"] == "/elsewhere"
    assert response.url == str(server.make_url("/inbox"))
    assert hits == []


async def test_redirects_to_blocked_addresses_are_refused_before_connecting(
    aiohttp_server, client_for, make_listener
):
    target = await make_listener()

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    server = await serve(aiohttp_server, web.get("/go", to))
    # Only the redirecting server itself is allowed.
    client = client_for(make_config(allowed_hosts=(f"127.0.0.1:{server.port}",)))
    for destination in (target.url("127.0.0.1"), target.url("localhost"), target.url("[::ffff:127.0.0.1]")):
        with pytest.raises(BlockedAddress) as caught:
            await client.get(str(server.make_url("/go").with_query(to=destination)))
        assert not caught.value.retryable
    with pytest.raises(InvalidUrl):
        await client.get(str(server.make_url("/go").with_query(to="file:///etc/passwd")))
    assert target.connections == 0


async def test_a_callable_signs_every_hop_for_its_own_url(aiohttp_server, client_for):
    asked: list[str] = []

    def headers_for(url: str) -> dict[str, str]:
        asked.append(url)
        return {"Host": host_header(url), "X-Signed-For": url}

    async def to_end(request: web.Request) -> web.Response:
        raise web.HTTPFound("/end")

    server = await serve(aiohttp_server, web.get("/start", to_end), web.get("/end", echo))
    response = await client_for().get(str(server.make_url("/start")), headers_for)
    assert asked == [str(server.make_url("/start")), str(server.make_url("/end"))]
    assert dict(response_json(response)["headers"])["X-Signed-For"] == str(server.make_url("/end"))


async def test_static_headers_lose_host_and_credentials_when_a_redirect_changes_origin(
    aiohttp_server, client_for
):
    other = await serve(aiohttp_server, web.get("/landing", echo))

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(other.make_url("/landing")))

    first = await serve(aiohttp_server, web.get("/away", away))
    sent = {"Host": f"127.0.0.1:{first.port}", "Authorization": "Bearer secret", "X-Keep": "1"}
    response = await client_for().get(str(first.make_url("/away")), sent)
    received = dict(response_json(response)["headers"])
    assert received["Host"] == f"127.0.0.1:{other.port}"
    assert "Authorization" not in received
    assert received["X-Keep"] == "1"


# --- the address guard ------------------------------------------------------------------------


async def test_loopback_literals_and_names_are_refused_before_any_connection(client_for, listener):
    client = client_for(make_config(allow_private_addresses=False))
    for host in ("127.0.0.1", "localhost", "LOCALHOST", "[::ffff:127.0.0.1]", "[::1]", "0.0.0.0"):
        with pytest.raises(BlockedAddress) as caught:
            await client.get(listener.url(host))
        assert caught.value.url == listener.url(host).lower()
        with pytest.raises(BlockedAddress):
            await client.post(listener.url(host), b"{}")
    assert listener.connections == 0


async def test_concurrent_lookups_of_a_blocked_name_all_fail(client_for, listener):
    client = client_for(make_config())
    results = await asyncio.gather(
        *(client.get(listener.url("localhost", f"/{i}")) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, BlockedAddress) for result in results)
    assert listener.connections == 0


async def test_allowed_hosts_open_one_port_and_keep_the_others_blocked(client_for, make_listener):
    allowed, other = await make_listener(), await make_listener()
    client = client_for(make_config(allowed_hosts=(f"127.0.0.1:{allowed.port}", f"localhost:{allowed.port}")))

    assert (await client.get(allowed.url("127.0.0.1"))).body == b"ok"
    assert (await client.get(allowed.url("localhost"))).body == b"ok"
    with pytest.raises(BlockedAddress):
        await client.get(other.url("127.0.0.1"))
    # The DNS cache is keyed by host and port: an allowed lookup does not open the name's other ports.
    with pytest.raises(BlockedAddress):
        await client.get(other.url("localhost"))
    assert allowed.connections == 2
    assert other.connections == 0


async def test_an_allowed_host_without_port_allows_every_port(client_for, make_listener):
    first, second = await make_listener(), await make_listener()
    client = client_for(make_config(allowed_hosts=("127.0.0.1",)))
    assert (await client.get(first.url())).body == b"ok"
    assert (await client.get(second.url())).body == b"ok"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/file",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "/relative/path",
        "http:///no-host",
        "http://user:pw@127.0.0.1:{port}/",
        "http://user@127.0.0.1:{port}/",
        "http://127.1:{port}/",
        "http://2130706433:{port}/",
        "http://127.0.0.1:99999/",
    ],
)
async def test_urls_that_are_not_plain_http_are_refused(client_for, listener, url):
    client = client_for()  # private addresses allowed: the refusal is about the URL itself
    with pytest.raises(InvalidUrl) as caught:
        await client.get(url.format(port=listener.port))
    assert not caught.value.retryable
    with pytest.raises(InvalidUrl):
        await client.post(url.format(port=listener.port), b"")
    assert listener.connections == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("2a00:1450:4001::200e", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("0.1.2.3", False),
        ("192.0.0.8", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("198.51.100.7", False),
        ("203.0.113.9", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::127.0.0.1", False),  # deprecated IPv4-compatible form
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
        ("fe80::1", False),
        ("fe80::1%1", False),
        ("fec0::1", False),
        ("fc00::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("ff0e::1", False),
        ("2001:db8::1", False),
        ("2001::1", False),  # Teredo
        ("100::1", False),  # discard-only
        ("not an address", False),
        ("", False),
    ],
)
def test_address_classifier(address: str, public: bool) -> None:
    assert is_public_address(address) is public
    if address and address != "not an address":
        assert is_public_address(ipaddress.ip_address(address)) is public


def test_policy_allow_private_and_allow_list() -> None:
    strict = AddressPolicy.build(False, ["127.0.0.1:8080", "peer.test", "[::1]:9000"])
    assert strict.permits("127.0.0.1", 8080, "127.0.0.1")
    assert not strict.permits("127.0.0.1", 8081, "127.0.0.1")
    assert strict.permits("Peer.Test.", 1234, "10.1.2.3")
    assert strict.permits("::1", 9000, "::1")
    assert not strict.permits("::1", 9001, "::1")
    assert not strict.permits("evil.test", 443, "127.0.0.1")
    assert strict.permits("evil.test", 443, "8.8.8.8")
    assert AddressPolicy.build(True).permits("evil.test", 443, "127.0.0.1")


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("Peer.Test", ("peer.test", None)),
        ("peer.test.:443", ("peer.test", 443)),
        ("[::1]:9000", ("::1", 9000)),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        ("0:0:0:0:0:0:0:1", ("::1", None)),
    ],
)
def test_allowed_host_entries(entry: str, parsed: tuple[str, int | None]) -> None:
    assert parse_allowed_host(entry) == parsed


@pytest.mark.parametrize(
    "entry", ["", "host:", "host:0", "host:65536", "host:http", "[::1", "[peer]:1", "a/b", "u@h"]
)
def test_malformed_allowed_hosts_stop_start_up(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"federation\.allowed_hosts"):
        HttpClient(make_config(allowed_hosts=(entry,)))


# --- network failures -------------------------------------------------------------------------


async def test_a_refused_connection_is_a_retryable_network_error(client_for):
    url = f"http://127.0.0.1:{unused_port()}/inbox"
    with pytest.raises(NetworkError) as caught:
        await client_for().post(url, b"{}")
    assert caught.value.retryable
    assert isinstance(caught.value, FetchError)
    assert "\n" not in str(caught.value)
    assert caught.value.url == url


async def test_a_server_slower_than_the_read_timeout_is_a_network_error(aiohttp_server, client_for):
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await asyncio.wait_for(release.wait(), 5)
        return web.Response(text="late")

    server = await serve(aiohttp_server, web.get("/slow", slow))
    client = client_for(read_timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(NetworkError, match="timed out") as caught:
            await client.get(str(server.make_url("/slow")))
    finally:
        release.set()
    assert caught.value.retryable
    assert loop.time() - started < 1


async def test_a_trickling_server_hits_the_total_deadline(aiohttp_server, client_for):
    release = asyncio.Event()

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while not release.is_set():
                await response.write(b".")  # each read is quick, the whole never ends
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        return response

    server = await serve(aiohttp_server, web.get("/trickle", trickle))
    client = client_for(read_timeout=0.2, total_timeout=0.4)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(NetworkError, match=r"within 0\.4 s"):
            await client.get(str(server.make_url("/trickle")))
    finally:
        release.set()
    assert loop.time() - started < 1


async def test_a_tls_handshake_that_never_comes_is_cut_at_the_connect_timeout(client_for):
    """A host that accepts the TCP connection and never answers the TLS hello (a black hole)."""
    accepted = asyncio.Event()
    closing = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await closing.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = make_config(allow_private_addresses=True, connect_timeout=0.3, first_byte_timeout=5.0)
    client = client_for(config)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(NetworkError) as caught:
            await client.post(f"https://127.0.0.1:{port}/inbox", b"{}")
    finally:
        closing.set()
        server.close()
    assert accepted.is_set() and caught.value.retryable
    assert loop.time() - started < 2  # the connect limit, not the 5 s read or 30 s request limit
