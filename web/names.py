"""How accounts are named and linked on the pages."""

from spark_fed.models import Account


def handle(account: Account) -> str:
    """`@name` for a local account, `@user@host` for a remote one (as Twitter and Mastodon show them)."""
    return f"@{account.username}" if account.is_local else f"@{account.username}@{account.domain}"


def profile_path(account: Account) -> str:
    return f"/{handle(account)}"


def display_name(account: Account) -> str:
    return account.display_name.strip() or account.username


def avatar_src(account: Account) -> str:
    """The account's own picture, or one drawn from its initial (`/web/avatars/ID.svg`)."""
    return account.avatar_url or f"/web/avatars/{account.id}.svg"


def thread_path(author: Account, status_id: int) -> str:
    return f"{profile_path(author)}/{status_id}"


def full_handle(account: Account, domain: str) -> str:
    """`@user@host` for every account: what a person types into another server's search box."""
    return f"@{account.username}@{account.domain or domain}"
