"""How accounts are named and linked on the pages, and the pictures that stand for them."""

from collections.abc import Mapping

from spark_fed.models import Account, MediaAttachment
from spark_fed.models.media import FetchState, MediaKind

# `spark_fed.media.records.profile_images`: avatars and headers by (account id, kind).
ProfileImages = Mapping[tuple[int, str], MediaAttachment]


def handle(account: Account) -> str:
    """`@name` for a local account, `@user@host` for a remote one (as Twitter and Mastodon show them)."""
    return f"@{account.username}" if account.is_local else f"@{account.username}@{account.domain}"


def profile_path(account: Account) -> str:
    return f"/{handle(account)}"


def display_name(account: Account) -> str:
    return account.display_name.strip() or account.username


def avatar_src(account: Account, images: ProfileImages | None = None) -> str:
    """The account's avatar as Spark serves it (`/media/ID/small`: local uploads and remote
    avatars alike, the latter through the media proxy), or one drawn from its initial
    (`/web/avatars/ID.svg`). Never the remote server's URL: pages load images from Spark only."""
    row = _usable((images or {}).get((account.id, MediaKind.AVATAR)))
    return f"/media/{row.id}/small" if row else f"/web/avatars/{account.id}.svg"


def header_src(account: Account, images: ProfileImages | None = None) -> str | None:
    """The account's header image (`/media/ID/original`), or None (the profile shows a gradient)."""
    row = _usable((images or {}).get((account.id, MediaKind.HEADER)))
    return f"/media/{row.id}/original" if row else None


def _usable(row: MediaAttachment | None) -> MediaAttachment | None:
    """A picture that can be shown: not a remote file that failed Spark's checks."""
    return row if row is not None and row.fetch_state != FetchState.FAILED else None


def thread_path(author: Account, status_id: int) -> str:
    return f"{profile_path(author)}/{status_id}"


def full_handle(account: Account, domain: str) -> str:
    """`@user@host` for every account: what a person types into another server's search box."""
    return f"@{account.username}@{account.domain or domain}"
