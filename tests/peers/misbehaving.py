"""Inboxes that fail the way servers on the fediverse do, on real loopback sockets.

A black-holed or overloaded server accepts the connection and then says nothing; a stopped one
refuses; a struggling one trickles its answer or answers 503 with `Retry-After`. Each `Inbox`
is a raw asyncio server so that it can do exactly that (aiohttp would answer for it), and its
behaviour can be changed while it runs, which is how a host "comes back".
"""

import asyncio
import contextlib
import json
import socket
from collections import Counter
from enum import StrEnum
from typing import Any

HANG_LIMIT_SECONDS = 600.0
"""A hanging connection ends at the latest here, or when the inbox closes."""


VERBOSE_BYTES = 3 * 1024 * 1024
"""More than any cap on what Spark reads of an answer."""


class Behaviour(StrEnum):
    ANSWER = "answer"  # 202 at once, the activity recorded
    HANG = "hang"  # read the request, never answer
    TRICKLE = "trickle"  # the status line, then one byte of the body a second
    BUSY = "busy"  # 503 with Retry-After (and `answer_body`)
    VERBOSE = "verbose"  # 202, the activity recorded, with a body of VERBOSE_BYTES


class Inbox:
    """One loopback host with one inbox at `/inbox`."""

    def __init__(
        self, behaviour: Behaviour = Behaviour.ANSWER, *, retry_after: str = "1", answer_body: bytes = b""
    ) -> None:
        self.behaviour = behaviour
        self.retry_after = retry_after
        self.answer_body = answer_body
        self.requests = 0
        """Requests read completely, whatever was answered."""
        self.received: list[dict[str, Any]] = []
        """The activities acknowledged with 202, in order."""
        self._server: asyncio.Server | None = None
        self._closing = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> "Inbox":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/inbox"

    def ids(self) -> Counter[str]:
        """How many times each activity was acknowledged."""
        return Counter(activity["id"] for activity in self.received)

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:  # each ends at once now; a task left running would be cancelled noisily
            await asyncio.wait(self._handlers, timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            while (body := await _read_request(reader)) is not None:
                self.requests += 1
                if not await self._answer(body, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            self._handlers.discard(handler)
            writer.close()

    async def _answer(self, body: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer as the current behaviour says; False when the connection is to be dropped."""
        match self.behaviour:
            case Behaviour.HANG:
                async with asyncio.timeout(HANG_LIMIT_SECONDS):
                    await self._closing.wait()
                return False
            case Behaviour.TRICKLE:
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 60\r\n\r\n")
                for _ in range(60):
                    await writer.drain()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), 1.0)
                        return False
                    writer.write(b".")
                return True
            case Behaviour.BUSY:
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: "
                    + self.retry_after.encode()
                    + f"\r\nContent-Length: {len(self.answer_body)}\r\n\r\n".encode()
                    + self.answer_body
                )
            case Behaviour.VERBOSE:
                self.received.append(json.loads(body))
                writer.write(f"HTTP/1.1 202 Accepted\r\nContent-Length: {VERBOSE_BYTES}\r\n\r\n".encode())
                writer.write(b"x" * VERBOSE_BYTES)
            case Behaviour.ANSWER:
                self.received.append(json.loads(body))
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return True


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """The body of the next request on the connection; None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length)


class RefusingHost:
    """A port that is bound and not listening: every connection is refused (RST), as by a host
    whose server is stopped. Holding the socket keeps anyone else from taking the port."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/inbox"

    def close(self) -> None:
        self._socket.close()
