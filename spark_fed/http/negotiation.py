"""Content negotiation between ActivityStreams JSON and HTML at the same URL.

Actors and notes have one URL for people and machines; which one asked is
read from Accept. Media types are compared by type/subtype only, parameters
ignored (real peers send `profile=` and `charset=` in every combination).
"""

from aiohttp import web

AS2_TYPES = frozenset({"application/activity+json", "application/ld+json"})
JSON_TYPES = AS2_TYPES | {"application/json", "application/jrd+json"}
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def media_type(value: str | None) -> str:
    """The bare type/subtype of a Content-Type or Accept item, lowercased."""
    return (value or "").split(";", 1)[0].strip().lower()


def parse_accept(header: str) -> list[tuple[str, float]]:
    items = []
    for part in header.split(","):
        kind = media_type(part)
        if not kind:
            continue
        quality = 1.0
        for param in part.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        items.append((kind, quality))
    return items


def wants_activity_json(request: web.Request) -> bool:
    """True when the client prefers AS2 JSON over HTML (ties go to JSON: browsers never tie)."""
    accepted = parse_accept(request.headers.get("Accept", ""))
    best_json = max((q for kind, q in accepted if kind in AS2_TYPES), default=0.0)
    best_html = max((q for kind, q in accepted if kind in HTML_TYPES or kind == "*/*"), default=0.0)
    return best_json > 0 and best_json >= best_html


def wants_html(request: web.Request) -> bool:
    """True for a browser's navigation: it names text/html, above any JSON type (API paths never)."""
    if request.path.startswith("/api/"):
        return False
    accepted = parse_accept(request.headers.get("Accept", ""))
    best_html = max((q for kind, q in accepted if kind in HTML_TYPES), default=0.0)
    best_json = max((q for kind, q in accepted if kind in JSON_TYPES), default=0.0)
    return best_html > 0 and best_html > best_json
