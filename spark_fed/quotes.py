"""Quote posts with consent, as Mastodon 4.5 speaks it (docs/quotes.md): who may quote a post, the
wire terms for it, and the quote rows the status-write boundary stores with a post.

A post names what it quotes (`quote`, and the older `quoteUri`, `quoteUrl`, `_misskey_quote`);
the quoted author's consent is a `QuoteAuthorization` object on the quoted author's server,
named by the quote's `quoteAuthorization`. A quote is shown as approved only when that stamp
was checked (or issued here); anything else is pending, refused, revoked or unverified.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .activitystreams import PUBLIC, PUBLIC_ALIASES, as_list
from .models import (
    Account,
    Notification,
    NotificationType,
    Quote,
    QuotePolicy,
    QuoteState,
    Status,
    Visibility,
)
from .models.types import utcnow

FEP_044F = "https://w3id.org/fep/044f#"

#: The terms a Note with a quote or a quote policy needs, as Mastodon defines them.
NOTE_TERMS: dict[str, Any] = {
    "quote": {"@id": f"{FEP_044F}quote", "@type": "@id"},
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "quoteAuthorization": {"@id": f"{FEP_044F}quoteAuthorization", "@type": "@id"},
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
}
#: The terms of a QuoteAuthorization document.
AUTHORIZATION_TERMS: dict[str, Any] = {
    "QuoteAuthorization": f"{FEP_044F}QuoteAuthorization",
    "gts": "https://gotosocial.org/ns#",
    "interactingObject": {"@id": "gts:interactingObject"},
    "interactionTarget": {"@id": "gts:interactionTarget"},
}
REQUEST_TERMS: dict[str, Any] = {"QuoteRequest": f"{FEP_044F}QuoteRequest"}

QUOTABLE = (Visibility.PUBLIC, Visibility.UNLISTED)
"""Only these may be quoted: a quote would show a private post to people it was not meant for."""

_QUOTE_KEYS = ("quote", "quoteUrl", "quoteUri", "_misskey_quote")


@dataclass
class QuoteLink:
    """What a new post quotes, handed to the status-write boundary with it."""

    quoted_uri: str
    quoted: Status | None = None
    state: str = QuoteState.PENDING
    authorization_uri: str | None = None
    request_uri: str | None = None


def approval(policy: str | None, *, is_author: bool, follows: bool) -> str:
    """How POLICY treats one would-be quoter: Mastodon's `current_user` (automatic, manual,
    denied, unknown). A post that states no policy (an older server's) is `unknown`: a quote
    of it asks and waits."""
    if is_author:
        return "automatic"
    if policy is None:
        return "unknown"
    if policy == QuotePolicy.PUBLIC or (policy == QuotePolicy.FOLLOWERS and follows):
        return "automatic"
    return "denied"


def automatic_list(policy: str | None) -> list[str]:
    """The API's `quote_approval.automatic`."""
    if policy in (QuotePolicy.PUBLIC, QuotePolicy.FOLLOWERS):
        return [policy]
    return []


def effective_policy(status: Status) -> str | None:
    """A post that is not public or unlisted can be quoted by nobody, whatever it was set to."""
    if status.visibility not in QUOTABLE:
        return QuotePolicy.NOBODY
    return status.quote_policy


def interaction_policy(policy: str | None, author: Account) -> dict[str, Any]:
    """Model → AS2: the Note's `interactionPolicy`. Only automatic approval is published; an
    author-only list means nobody else."""
    approved = []
    if policy == QuotePolicy.PUBLIC:
        approved.append(PUBLIC)
    elif policy == QuotePolicy.FOLLOWERS:
        approved.append(author.followers_url or f"{author.uri}/followers")
    if not approved:
        approved.append(author.uri)
    return {"canQuote": {"automaticApproval": approved}}


def policy_from_note(note: dict[str, Any], author: Account) -> str | None:
    """AS2 → model: the quote policy a remote Note publishes, None when it publishes none."""
    policy = note.get("interactionPolicy")
    if not isinstance(policy, dict) or not isinstance(policy.get("canQuote"), dict):
        return None
    can_quote = policy["canQuote"]
    approved = {_id(v) for v in as_list(can_quote.get("automaticApproval"))}
    approved |= {_id(v) for v in as_list(can_quote.get("manualApproval"))}
    if approved & PUBLIC_ALIASES:
        return QuotePolicy.PUBLIC
    if author.followers_url and author.followers_url in approved:
        return QuotePolicy.FOLLOWERS
    return QuotePolicy.NOBODY


def quoted_uri_of(note: dict[str, Any]) -> str | None:
    """AS2 → model: what a Note quotes, by any of the names servers use for it."""
    for key in _QUOTE_KEYS:
        uri = _id(note.get(key))
        if uri and uri.startswith(("https://", "http://")) and len(uri) <= 2048:
            return uri
    return None


def authorization_of(note: dict[str, Any]) -> str | None:
    uri = _id(note.get("quoteAuthorization"))
    return uri if uri and uri.startswith(("https://", "http://")) and len(uri) <= 2048 else None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def store_quotes(session: AsyncSession, quotes: Sequence[tuple[Status, QuoteLink]]) -> None:
    """The quote rows of newly stored posts (the status-write boundary calls this); a local
    author whose post is quoted with approval hears of it."""
    for status, link in quotes:
        quoted = link.quoted
        row = Quote(
            status_id=status.id,
            quoted_status_id=quoted.id if quoted else None,
            quoted_uri=link.quoted_uri,
            account_id=status.account_id,
            quoted_account_id=quoted.account_id if quoted else None,
            state=link.state,
            authorization_uri=link.authorization_uri,
            request_uri=link.request_uri,
        )
        session.add(row)
        if link.state == QuoteState.ACCEPTED:
            await notify_quoted(session, row)


async def notify_quoted(session: AsyncSession, quote: Quote) -> None:
    """The quoted author, when local, hears of an approved quote (Mastodon's `quote`)."""
    if quote.quoted_account_id is None or quote.quoted_account_id == quote.account_id:
        return
    author = await session.get(Account, quote.quoted_account_id)
    if author is not None and author.is_local:
        session.add(
            Notification(
                account_id=author.id,
                type=NotificationType.QUOTE,
                from_account_id=quote.account_id,
                status_id=quote.status_id,
            )
        )


async def notify_quoters(session: AsyncSession, status: Status) -> None:
    """Those here who quoted an edited post hear that it changed (Mastodon's `quoted_update`)."""
    rows = await session.exec(
        sql_select(Quote.status_id, Quote.account_id)
        .join(Account, col(Account.id) == col(Quote.account_id))
        .where(col(Quote.quoted_status_id) == status.id, col(Account.domain).is_(None))
    )
    for quoting_id, account_id in rows.all():
        if account_id != status.account_id:
            session.add(
                Notification(
                    account_id=account_id,
                    type=NotificationType.QUOTED_UPDATE,
                    from_account_id=status.account_id,
                    status_id=quoting_id,
                )
            )


async def quotes_by_status(session: AsyncSession, status_ids: Sequence[int]) -> dict[int, Quote]:
    """The quote rows of these posts (those that quote something), by the quoting post's id."""
    if not status_ids:
        return {}
    rows = await session.exec(select(Quote).where(col(Quote.status_id).in_(sorted(set(status_ids)))))
    return {row.status_id: row for row in rows.all()}


async def accepted_counts(session: AsyncSession, status_ids: Sequence[int]) -> dict[int, int]:
    """How many approved quotes each of these posts has (the API's `quotes_count`)."""
    if not status_ids:
        return {}
    rows = await session.exec(
        sql_select(Quote.quoted_status_id, func.count())
        .where(
            col(Quote.quoted_status_id).in_(sorted(set(status_ids))), col(Quote.state) == QuoteState.ACCEPTED
        )
        .group_by(Quote.quoted_status_id)
    )
    return dict(rows.all())


def set_state(quote: Quote, state: str, *, authorization_uri: str | None = None) -> None:
    quote.state = state
    if authorization_uri is not None:
        quote.authorization_uri = authorization_uri
    quote.updated_at = utcnow()
