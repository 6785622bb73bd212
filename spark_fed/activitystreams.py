"""ActivityStreams vocabulary that Spark emits and reads."""

from datetime import UTC, datetime
from typing import Any

AS2 = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
WEBFINGER_NS = "https://purl.archive.org/socialweb/webfinger"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})

# The terms Mastodon's own actors define inline, so that peers which do run
# JSON-LD read our extensions under the same IRIs as Mastodon's.
ACTOR_CONTEXT: list[Any] = [
    AS2,
    SECURITY_V1,
    WEBFINGER_NS,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]


def as_list(value: Any) -> list[Any]:
    """AS2 allows one value or many anywhere; read both the same way."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def as_time(value: Any) -> datetime | None:
    """An AS2 date-time (`published`, `updated`, `endTime`, …) as an aware datetime; anything
    that is not one is None, so a peer's bad date is read as "not given". A time without a
    zone is taken as UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
