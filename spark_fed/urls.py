"""Every local URL Spark mints, in one place.

Ids are forever in ActivityPub: peers key accounts and objects on them, so
they are built here and nowhere else, from `server.scheme` and
`server.domain` (never from the request, which a proxy may have rewritten).
"""

from urllib.parse import quote

from .config import Config


class Urls:
    def __init__(self, config: Config) -> None:
        self.base = config.base_url
        self.domain = config.server.domain

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{quote(username)}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def profile(self, username: str) -> str:
        return f"{self.base}/@{quote(username)}"

    def status(self, username: str, status_id: int) -> str:
        return f"{self.actor(username)}/statuses/{status_id}"

    def status_page(self, username: str, status_id: int) -> str:
        return f"{self.profile(username)}/{status_id}"

    def media(self, media_id: int, size: str = "original") -> str:
        """Every image Spark serves, its own uploads and the proxied remote ones alike."""
        return f"{self.base}/media/{media_id}/{size}"

    @property
    def default_avatar(self) -> str:
        return f"{self.base}/avatars/original/missing.png"

    @property
    def default_header(self) -> str:
        return f"{self.base}/headers/original/missing.png"

    def tag(self, name: str) -> str:
        return f"{self.base}/tags/{quote(name)}"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def instance_key_id(self) -> str:
        return f"{self.instance_actor}#main-key"

    @property
    def instance_inbox(self) -> str:
        return f"{self.instance_actor}/inbox"

    @property
    def instance_outbox(self) -> str:
        return f"{self.instance_actor}/outbox"

    def nodeinfo(self, version: str) -> str:
        return f"{self.base}/nodeinfo/{version}"

    def webfinger_template(self) -> str:
        return f"{self.base}/.well-known/webfinger?resource={{uri}}"

    def acct(self, username: str) -> str:
        return f"acct:{username}@{self.domain}"
