"""JSON-LD for Spark, offline: bundled context documents and a pyld loader that never fetches.

Use :func:`expand`, :func:`compact` and :func:`normalize` (or pass :func:`options` to pyld yourself);
never call pyld without a ``documentLoader``, since its default one fetches with ``requests``.
Unknown ``@context`` URLs read as empty contexts unless ``strict=True``, which raises
:class:`UnknownContextError` instead (use that for LD signatures). See ``loader.py`` for why.
"""

from spark_fed.activitystreams import AS2, SECURITY_V1, WEBFINGER_NS
from spark_fed.jsonld.loader import (
    ContextBundle,
    OfflineDocumentLoader,
    UnknownContextError,
    UnknownPolicy,
    compact,
    context_key,
    default_bundle,
    expand,
    install,
    lenient_loader,
    loader_for,
    normalize,
    options,
    strict_loader,
)

AS_CONTEXT = AS2
SECURITY_V1_CONTEXT = SECURITY_V1
WEBFINGER_CONTEXT = WEBFINGER_NS
ACTOR_CONTEXT_URLS: tuple[str, ...] = (AS_CONTEXT, SECURITY_V1_CONTEXT, WEBFINGER_CONTEXT)
"""The context URLs Spark's actor documents name, in Mastodon's order (docs/interop.md)."""

__all__ = [
    "ACTOR_CONTEXT_URLS",
    "AS_CONTEXT",
    "SECURITY_V1_CONTEXT",
    "WEBFINGER_CONTEXT",
    "ContextBundle",
    "OfflineDocumentLoader",
    "UnknownContextError",
    "UnknownPolicy",
    "compact",
    "context_key",
    "default_bundle",
    "expand",
    "install",
    "lenient_loader",
    "loader_for",
    "normalize",
    "options",
    "strict_loader",
]
