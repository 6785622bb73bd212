"""Reading a WebFinger `resource` in every form Mastodon accepts (docs/interop.md)."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from spark_fed.errors import BadRequest, NotFound
from spark_fed.urls import Urls


@dataclass(frozen=True)
class Resource:
    """A local name, or None for the instance actor."""

    username: str | None


def parse_resource(raw: str | None, urls: Urls) -> Resource:
    if raw is None or not raw.strip():
        raise BadRequest("the resource parameter is required")
    value = raw.strip()
    if value.lower().startswith(("http://", "https://")):
        return _from_url(value, urls)
    if value.lower().startswith("acct:"):
        value = value[5:]
    return _from_acct(value.lstrip("@"), urls)


def _from_acct(value: str, urls: Urls) -> Resource:
    if value.lower() == urls.domain.lower():
        return Resource(username=None)
    user, sep, host = value.rpartition("@")
    if not sep or not user or not host:
        raise BadRequest("resource must look like acct:user@domain")
    if host.lower() != urls.domain.lower():
        raise NotFound(f"{host} is not this server")
    if user.lower() == urls.domain.lower():
        return Resource(username=None)
    return Resource(username=user)


def _from_url(value: str, urls: Urls) -> Resource:
    parts = urlsplit(value)
    if parts.netloc.lower() != urls.domain.lower():
        raise NotFound(f"{parts.netloc} is not this server")
    path = unquote(parts.path)
    if path in ("", "/", "/actor"):
        return Resource(username=None)
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return Resource(username=path[len(prefix) :])
    raise NotFound("no account at that URL")
