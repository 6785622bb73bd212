"""A pyld document loader that never touches the network.

Why: pyld's default loader fetches every ``@context`` URL with ``requests``. On a federating server
that means a remote peer decides which hosts we contact (and how long we wait) just by naming a URL in
``@context``, and signature checks would depend on w3id.org being up. So Spark serves the context
documents it bundles (``contexts/index.json``) from memory and never fetches anything else.

What happens for a URL that is not bundled is a choice the caller makes (docs/decisions.md: "never fail on
an unknown ``@context``"):

* ``on_unknown="empty"`` (the **lenient** loader, the default): the URL reads as an empty context,
  ``{}``, as Takahē does. Terms only that context defined are then dropped by expansion, but the
  document is still read. This is right for incoming activities, for example Pleroma's per-host
  ``https://<host>/schemas/litepub-0.1.jsonld``.
* ``on_unknown="error"`` (the **strict** loader): :class:`UnknownContextError` is raised. Use it
  where dropping terms would be unsafe, above all when canonicalising a document to check or make
  an LD signature: terms the signer's context defined but we do not know would silently fall out of
  the signed data.

Every loader keeps its own cache of processed contexts (passed to pyld as ``contextResolver``), so a
context resolved by one policy is never reused by the other, and bundled contexts are processed once
per process rather than once per document.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal
from urllib.parse import urlsplit

from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

log = logging.getLogger(__name__)

UnknownPolicy = Literal["empty", "error"]
"""What a loader does with a URL it does not bundle: read it as ``{}`` or raise."""

RemoteDocument = dict[str, Any]
"""The dict pyld expects from a document loader (JSON-LD 1.1 API *RemoteDocument*)."""

DocumentLoader = Callable[[str, dict[str, Any]], RemoteDocument]

INDEX_FILE = "index.json"
RESOLVED_CACHE_SIZE = 512
"""Processed contexts kept per loader; bounded because a peer can vary a URL (``…#x1``, ``…#x2``)."""

_EMPTY_CONTEXT: dict[str, Any] = {"@context": {}}


class UnknownContextError(JsonLdError):
    """A document named an ``@context`` URL that Spark does not bundle, and the caller was strict.

    It subclasses pyld's ``JsonLdError`` so code that already catches that keeps working; the
    helpers in this package re-raise it unwrapped so callers can tell it apart from bad JSON-LD.
    """

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not bundled and Spark does not fetch contexts.",
            "spark.UnknownContext",
            {"url": url},
            code="loading remote context failed",
        )
        self.url = url


def context_key(url: str) -> str:
    """The form under which a context URL is looked up, so trivial variants of it match.

    Why: peers write the same context as ``http://…`` or ``https://…``, with a trailing ``/`` or
    ``#``, and none of that changes the document. The key drops the scheme and any fragment,
    lower-cases the host and strips trailing slashes from the path; the query is kept.
    Non-HTTP URLs are returned unchanged (and so never match a bundled document).
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return url
    key = parts.netloc.lower() + parts.path.rstrip("/")
    return f"{key}?{parts.query}" if parts.query else key


class ContextBundle:
    """The bundled context documents: read from package data on first use, then kept in memory.

    Why lazy: importing Spark (the CLI, tests) should not parse ~200 KB of JSON it may never use.
    Each file is parsed the first time a URL served by it is asked for, and only once.
    """

    def __init__(self, root: Traversable | None = None) -> None:
        self._root = root if root is not None else resources.files(__package__) / "contexts"
        self._lock = threading.Lock()
        self._index: dict[str, str] | None = None
        self._urls: dict[str, str] = {}
        self._documents: dict[str, dict[str, Any]] = {}

    def _load_index(self) -> dict[str, str]:
        with self._lock:
            if self._index is None:
                manifest: dict[str, str] = json.loads((self._root / INDEX_FILE).read_text("utf-8"))
                self._urls = dict(manifest)
                self._index = {context_key(url): name for url, name in manifest.items()}
            return self._index

    def manifest(self) -> dict[str, str]:
        """The URL → file name mapping as written in ``index.json``."""
        self._load_index()
        return dict(self._urls)

    def filename_for(self, url: str) -> str | None:
        """The bundled file serving ``url`` (after :func:`context_key` normalisation), if any."""
        return self._load_index().get(context_key(url))

    def document(self, filename: str) -> dict[str, Any]:
        """The parsed document in ``filename``; shared, so callers must not mutate it."""
        with self._lock:
            doc = self._documents.get(filename)
            if doc is None:
                doc = json.loads((self._root / filename).read_text("utf-8"))
                self._documents[filename] = doc
            return doc

    def lookup(self, url: str) -> dict[str, Any] | None:
        """The bundled document for ``url``, or ``None`` when Spark does not bundle it."""
        filename = self.filename_for(url)
        return None if filename is None else self.document(filename)

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.filename_for(url) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.manifest())


class _LruCache:
    """A small thread-safe LRU with the two methods pyld's ContextResolver uses (``get``, ``[]=``).

    Why not pyld's module-level cache: it is shared by every loader in the process, so a context
    resolved leniently would later be reused by a strict caller (or vice versa).
    """

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class OfflineDocumentLoader:
    """A pyld ``documentLoader`` that serves bundled documents and never opens a connection.

    Pass it to pyld through :meth:`options` (which also supplies this loader's private context
    cache), or use the ``expand``/``compact``/``normalize`` helpers of this package, which do.
    """

    def __init__(
        self,
        on_unknown: UnknownPolicy = "empty",
        bundle: ContextBundle | None = None,
        cache_size: int = RESOLVED_CACHE_SIZE,
    ) -> None:
        if on_unknown not in ("empty", "error"):
            raise ValueError(f"on_unknown must be 'empty' or 'error', not {on_unknown!r}")
        self.on_unknown: UnknownPolicy = on_unknown
        self.bundle = bundle if bundle is not None else default_bundle
        self._resolved = _LruCache(cache_size)

    @property
    def strict(self) -> bool:
        """True when unknown contexts raise :class:`UnknownContextError`."""
        return self.on_unknown == "error"

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> RemoteDocument:
        """Answer pyld's request for ``url`` from the bundle, or apply the unknown-URL policy.

        Bundled documents are tagged ``static`` so pyld caches their processed form; the lenient
        empty answer is not, so an unknown URL never occupies a cache slot for long.
        """
        document = self.bundle.lookup(url)
        if document is not None:
            return _remote(url, copy.deepcopy(document), tag="static")
        if self.strict:
            raise UnknownContextError(url)
        log.debug("JSON-LD context %s is not bundled; reading it as an empty context", url)
        return _remote(url, copy.deepcopy(_EMPTY_CONTEXT), tag=None)

    def options(self, **extra: Any) -> dict[str, Any]:
        """pyld options that make one operation use this loader and this loader's cache only.

        A fresh ``ContextResolver`` is made per call because pyld keeps a per-operation cache in it.
        """
        return {
            "documentLoader": self,
            "contextResolver": ContextResolver(self._resolved, self),
            **extra,
        }


def _remote(url: str, document: dict[str, Any], tag: str | None) -> RemoteDocument:
    remote: RemoteDocument = {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
    }
    if tag is not None:
        remote["tag"] = tag
    return remote


default_bundle = ContextBundle()
"""The documents in ``spark_fed/jsonld/contexts/``, shared by the loaders below."""

lenient_loader = OfflineDocumentLoader("empty")
"""Reads unknown contexts as empty: for incoming documents (docs/decisions.md, JSON-LD)."""

strict_loader = OfflineDocumentLoader("error")
"""Raises :class:`UnknownContextError` for unknown contexts: for LD signatures."""


def loader_for(strict: bool) -> OfflineDocumentLoader:
    """The shared strict or lenient loader."""
    return strict_loader if strict else lenient_loader


def install(loader: DocumentLoader | None = None) -> DocumentLoader:
    """Make ``loader`` (default: the lenient one) pyld's process-wide default; return the old one.

    Why: a library that calls ``pyld.jsonld.expand`` without a ``documentLoader`` would otherwise
    fetch over the network with ``requests``. Spark's own code should still pass options explicitly
    (or use the helpers); this is the safety net. Restore with ``install(previous)``.
    """
    previous: DocumentLoader = jsonld.get_document_loader()
    jsonld.set_document_loader(loader if loader is not None else lenient_loader)
    return previous


def options(*, strict: bool = False, **extra: Any) -> dict[str, Any]:
    """pyld options using the shared strict or lenient offline loader (see module docstring)."""
    return loader_for(strict).options(**extra)


def expand(doc: dict[str, Any], *, strict: bool = False) -> list[dict[str, Any]]:
    """Expand ``doc`` with bundled contexts only; lenient about unknown contexts unless ``strict``.

    Raises :class:`UnknownContextError` (strict only) or pyld's ``JsonLdError`` for invalid JSON-LD.
    """
    with _unwrapped_unknown():
        return jsonld.expand(doc, options(strict=strict))


def compact(doc: dict[str, Any], context: Any, *, strict: bool = False) -> dict[str, Any]:
    """Compact ``doc`` against ``context`` (a URL, a list or an object), offline.

    Why: reading an incoming document under Spark's own context gives it the term names Spark's
    code expects, whatever prefixes or aliases the sender used.
    """
    with _unwrapped_unknown():
        return jsonld.compact(doc, context, options(strict=strict))


def normalize(doc: dict[str, Any], *, strict: bool = True) -> str:
    """URDNA2015 canonical N-Quads of ``doc``, as LD signatures (RsaSignature2017) hash them.

    Strict by default: canonicalising with a context we do not have would drop the terms it defines
    from the signed data instead of failing.
    """
    with _unwrapped_unknown():
        return jsonld.normalize(
            doc, options(strict=strict, algorithm="URDNA2015", format="application/n-quads")
        )


@contextmanager
def _unwrapped_unknown() -> Iterator[None]:
    """Re-raise an :class:`UnknownContextError` that pyld wrapped in its own JsonLdErrors.

    pyld turns a loader exception into "Dereferencing a URL did not result in a valid JSON-LD
    object" (and compaction wraps that again), so without this the caller could not tell an
    unknown context from malformed input.
    """
    try:
        yield
    except JsonLdError as exc:
        unknown = _find_unknown(exc)
        if unknown is None or unknown is exc:
            raise
        raise UnknownContextError(unknown.url) from exc


def _find_unknown(exc: BaseException | None) -> UnknownContextError | None:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UnknownContextError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
