"""Muted words (Mastodon's filters v2): a user's filters, their keywords, and matching them.

A filter has a title, the contexts it applies in (`home`, `notifications`, `public`, `thread`,
`account`), an action (`hide`: the post is left out; `warn`: it is shown collapsed under the
filter's title) and an optional expiry; its keywords match a post's text case-insensitively, as
a substring or, with `whole_word`, between word boundaries (Mastodon's rule: `\\b` on a side where
the keyword begins or ends with a word character).

Filters are applied when reading (`filter_matches`), so a new filter covers old posts too. Nothing
is cached across requests: one query loads the viewer's live filters for a page.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .content import plain_text
from .db import Database
from .errors import NotFound, UsageError
from .models import Account, Filter, FilterAction, FilterKeyword, Status
from .models.safety import FILTER_CONTEXTS
from .models.types import utcnow

MAX_TITLE = 256
MAX_KEYWORD = 512
MAX_KEYWORDS_PER_FILTER = 100
MAX_FILTERS_PER_ACCOUNT = 200
# About a century: a longer expiry means "never", and an enormous one must not overflow a date.
MAX_EXPIRES_IN = 100 * 365 * 24 * 3600
ACTIONS = (FilterAction.WARN.value, FilterAction.HIDE.value)


class FilterNotFound(NotFound):
    """No such filter or keyword among the account's own (another's looks the same)."""

    def __init__(self, message: str = "Record not found") -> None:
        super().__init__(message)


class _Keep:
    """`update_filter(expires_in=KEEP)`: leave the expiry as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class KeywordEdit:
    """One change to a filter's keywords in `update_filter`: ID None adds KEYWORD; an ID changes
    that keyword (None fields stay) or, with DESTROY, removes it."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


@dataclass(frozen=True)
class FilterResult:
    """A filter that matched a status, and which of its keywords did."""

    filter: Filter
    keyword_matches: list[str] = field(default_factory=list)


# --- validation --------------------------------------------------------------------------------


def _title(title: object) -> str:
    text = str(title or "").strip()
    if not text:
        raise UsageError("Title can't be blank")
    if len(text) > MAX_TITLE:
        raise UsageError(f"Title is too long (maximum is {MAX_TITLE} characters)")
    return text


def _contexts(contexts: Iterable[str]) -> str:
    chosen = list(dict.fromkeys(str(c).strip() for c in contexts if str(c).strip()))
    if not chosen:
        raise UsageError("Context can't be blank")
    unknown = [c for c in chosen if c not in FILTER_CONTEXTS]
    if unknown:
        raise UsageError(f"Context {unknown[0]!r} is not one of {', '.join(FILTER_CONTEXTS)}")
    return ",".join(c for c in FILTER_CONTEXTS if c in chosen)  # a fixed order


def _action(action: object) -> str:
    text = str(action or "").strip()
    if text not in ACTIONS:
        raise UsageError("Filter action must be warn or hide")
    return text


def _expires_at(expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise UsageError("Expires in must be a positive number of seconds")
    if expires_in > MAX_EXPIRES_IN:
        raise UsageError(f"Expires in is too long (at most {MAX_EXPIRES_IN} seconds)")
    return utcnow() + timedelta(seconds=expires_in)


def _keyword(keyword: object) -> str:
    text = str(keyword if keyword is not None else "").strip()
    if not text:
        raise UsageError("Keyword can't be blank")
    if len(text) > MAX_KEYWORD:
        raise UsageError(f"Keyword is too long (maximum is {MAX_KEYWORD} characters)")
    if "\x00" in text:
        raise UsageError("Keyword contains a NUL character")
    return text


# --- writing -----------------------------------------------------------------------------------


async def _own_filter(session: AsyncSession, account: Account, filter_id: int) -> Filter:
    row = await session.get(Filter, filter_id) if 0 < filter_id < 2**31 else None
    if row is None or row.account_id != account.id:
        raise FilterNotFound()
    return row


async def _keywords_of(session: AsyncSession, filter_id: int) -> list[FilterKeyword]:
    rows = await session.exec(
        select(FilterKeyword).where(FilterKeyword.filter_id == filter_id).order_by(col(FilterKeyword.id))
    )
    return list(rows.all())


async def create_filter(
    db: Database,
    account: Account,
    *,
    title: str,
    contexts: Sequence[str],
    action: str = "warn",
    keywords: Sequence[tuple[str, bool]] = (),
    expires_in: int | None = None,
) -> Filter:
    """A new filter of ACCOUNT with KEYWORDS, `(keyword, whole_word)` pairs; UsageError for bad
    input, and then nothing is stored."""
    values = Filter(
        account_id=account.id,
        title=_title(title),
        contexts=_contexts(contexts),
        action=_action(action),
        expires_at=_expires_at(expires_in),
    )
    words = [(_keyword(k), bool(w)) for k, w in keywords]
    if len(words) > MAX_KEYWORDS_PER_FILTER:
        raise UsageError(f"A filter has at most {MAX_KEYWORDS_PER_FILTER} keywords")
    async with db.write() as session:
        count = len((await session.exec(select(Filter.id).where(Filter.account_id == account.id))).all())
        if count >= MAX_FILTERS_PER_ACCOUNT:
            raise UsageError(f"An account has at most {MAX_FILTERS_PER_ACCOUNT} filters")
        session.add(values)
        await session.flush()
        for keyword, whole_word in words:
            session.add(FilterKeyword(filter_id=values.id, keyword=keyword, whole_word=whole_word))
    return values


async def update_filter(
    db: Database,
    account: Account,
    filter_id: int,
    *,
    title: str | None = None,
    contexts: Sequence[str] | None = None,
    action: str | None = None,
    expires_in: "int | _Keep | None" = KEEP,
    keywords: Sequence["KeywordEdit | tuple[str, bool]"] = (),
) -> Filter:
    """Change what is given (None: as it is; EXPIRES_IN None: never expires, KEEP: as it is).
    KEYWORDS are `KeywordEdit`s, or `(keyword, whole_word)` pairs to add. All or nothing."""
    async with db.write() as session:
        row = await _own_filter(session, account, filter_id)
        if title is not None:
            row.title = _title(title)
        if contexts is not None:
            row.contexts = _contexts(contexts)
        if action is not None:
            row.action = _action(action)
        if not isinstance(expires_in, _Keep):
            row.expires_at = _expires_at(expires_in)
        session.add(row)
        existing = {k.id: k for k in await _keywords_of(session, row.id)}
        added = 0
        for edit in keywords:
            if not isinstance(edit, KeywordEdit):
                edit = KeywordEdit(keyword=edit[0], whole_word=bool(edit[1]))
            if edit.id is None:
                if edit.destroy:
                    continue
                new = FilterKeyword(
                    filter_id=row.id,
                    keyword=_keyword(edit.keyword),
                    whole_word=True if edit.whole_word is None else edit.whole_word,
                )
                session.add(new)
                added += 1
                continue
            keyword = existing.get(edit.id)
            if keyword is None:
                raise FilterNotFound()
            if edit.destroy:
                await session.delete(keyword)
                del existing[edit.id]
                continue
            if edit.keyword is not None:
                keyword.keyword = _keyword(edit.keyword)
            if edit.whole_word is not None:
                keyword.whole_word = edit.whole_word
            session.add(keyword)
        if len(existing) + added > MAX_KEYWORDS_PER_FILTER:
            raise UsageError(f"A filter has at most {MAX_KEYWORDS_PER_FILTER} keywords")
    return row


async def delete_filter(db: Database, account: Account, filter_id: int) -> None:
    """Remove the filter and its keywords; FilterNotFound if ACCOUNT has no such filter."""
    async with db.write() as session:
        row = await _own_filter(session, account, filter_id)
        await session.exec(delete(FilterKeyword).where(col(FilterKeyword.filter_id) == row.id))
        await session.exec(delete(Filter).where(col(Filter.id) == row.id))


async def add_keyword(
    db: Database, account: Account, filter_id: int, keyword: str, whole_word: bool = True
) -> FilterKeyword:
    text = _keyword(keyword)
    async with db.write() as session:
        row = await _own_filter(session, account, filter_id)
        if len(await _keywords_of(session, row.id)) >= MAX_KEYWORDS_PER_FILTER:
            raise UsageError(f"A filter has at most {MAX_KEYWORDS_PER_FILTER} keywords")
        new = FilterKeyword(filter_id=row.id, keyword=text, whole_word=bool(whole_word))
        session.add(new)
    return new


async def _own_keyword(session: AsyncSession, account: Account, keyword_id: int) -> FilterKeyword:
    keyword = await session.get(FilterKeyword, keyword_id) if 0 < keyword_id < 2**31 else None
    if keyword is None:
        raise FilterNotFound()
    await _own_filter(session, account, keyword.filter_id)
    return keyword


async def update_keyword(
    db: Database,
    account: Account,
    keyword_id: int,
    *,
    keyword: str | None = None,
    whole_word: bool | None = None,
) -> FilterKeyword:
    async with db.write() as session:
        row = await _own_keyword(session, account, keyword_id)
        if keyword is not None:
            row.keyword = _keyword(keyword)
        if whole_word is not None:
            row.whole_word = bool(whole_word)
        session.add(row)
    return row


async def delete_keyword(db: Database, account: Account, keyword_id: int) -> None:
    async with db.write() as session:
        await session.delete(await _own_keyword(session, account, keyword_id))


# --- reading -----------------------------------------------------------------------------------


async def list_filters(session: AsyncSession, account_id: int) -> list[tuple[Filter, list[FilterKeyword]]]:
    """Every filter of the account (expired ones too, as Mastodon lists them), oldest first."""
    rows = (
        await session.exec(
            select(Filter, FilterKeyword)
            .outerjoin(FilterKeyword, col(FilterKeyword.filter_id) == col(Filter.id))
            .where(Filter.account_id == account_id)
            .order_by(col(Filter.id), col(FilterKeyword.id))
        )
    ).all()
    found: dict[int, tuple[Filter, list[FilterKeyword]]] = {}
    for row, keyword in rows:
        entry = found.setdefault(row.id, (row, []))
        if keyword is not None:
            entry[1].append(keyword)
    return list(found.values())


async def get_filter(
    session: AsyncSession, account_id: int, filter_id: int
) -> tuple[Filter, list[FilterKeyword]]:
    row = await session.get(Filter, filter_id) if 0 < filter_id < 2**31 else None
    if row is None or row.account_id != account_id:
        raise FilterNotFound()
    return row, await _keywords_of(session, row.id)


async def get_keyword(session: AsyncSession, account_id: int, keyword_id: int) -> FilterKeyword:
    keyword = await session.get(FilterKeyword, keyword_id) if 0 < keyword_id < 2**31 else None
    if keyword is None:
        raise FilterNotFound()
    owner = await session.get(Filter, keyword.filter_id)
    if owner is None or owner.account_id != account_id:
        raise FilterNotFound()
    return keyword


def contexts_of(row: Filter) -> list[str]:
    return [c for c in row.contexts.split(",") if c]


def is_live(row: Filter, now: datetime | None = None) -> bool:
    return row.expires_at is None or row.expires_at > (now or utcnow())


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    """Mastodon's: `\\b` before a keyword that begins with a word character and after one that
    ends with one, when WHOLE_WORD; case-insensitive either way."""
    escaped = re.escape(keyword)
    if whole_word:
        if re.match(r"\w", keyword):
            escaped = r"\b" + escaped
        if re.search(r"\w\Z", keyword):
            escaped += r"\b"
    return re.compile(escaped, re.IGNORECASE)


@dataclass(frozen=True)
class _Compiled:
    filter: Filter
    keywords: list[tuple[str, re.Pattern[str]]]


def searchable_text(status: Status) -> str:
    """What a filter reads: the content warning and the post's text."""
    text = plain_text(status.content)
    return f"{status.summary}\n\n{text}" if status.summary else text


async def filter_matches(
    session: AsyncSession, account_id: int, statuses: list[Status], context: str | None
) -> dict[int, list[FilterResult]]:
    """For each status that a live filter of ACCOUNT_ID (in CONTEXT; None: in any context)
    matches, the filters that do, by the status's id. A boost is matched by the boosted post's
    text; the account's own posts match nothing. One query loads the filters; one more the
    boosted posts, when the page has boosts."""
    if not statuses:
        return {}
    rows = (
        await session.exec(
            select(Filter, FilterKeyword)
            .join(FilterKeyword, col(FilterKeyword.filter_id) == col(Filter.id))
            .where(Filter.account_id == account_id)
            .where(col(Filter.expires_at).is_(None) | (col(Filter.expires_at) > utcnow()))
            .order_by(col(Filter.id), col(FilterKeyword.id))
        )
    ).all()
    compiled: dict[int, _Compiled] = {}
    for row, keyword in rows:
        if context is not None and context not in contexts_of(row):
            continue
        entry = compiled.setdefault(row.id, _Compiled(row, []))
        entry.keywords.append((keyword.keyword, keyword_pattern(keyword.keyword, keyword.whole_word)))
    if not compiled:
        return {}
    given = {s.id: s for s in statuses}
    wanted = {s.reblog_of_id for s in statuses if s.reblog_of_id is not None} - set(given)
    originals = dict(given)
    if wanted:
        found = await session.exec(select(Status).where(col(Status.id).in_(wanted)))
        originals.update({s.id: s for s in found.all()})
    result: dict[int, list[FilterResult]] = {}
    texts: dict[int, str] = {}
    for status in statuses:
        note = originals.get(status.reblog_of_id, status) if status.reblog_of_id is not None else status
        if note.account_id == account_id:
            continue  # one's own posts are never filtered (Mastodon's rule too)
        if note.id not in texts:
            texts[note.id] = searchable_text(note)
        text = texts[note.id]
        matched = []
        for entry in compiled.values():
            words = [word for word, pattern in entry.keywords if pattern.search(text)]
            if words:
                matched.append(FilterResult(entry.filter, list(dict.fromkeys(words))))
        if matched:
            result[status.id] = matched
    return result


def hidden(results: Iterable[FilterResult]) -> bool:
    """Whether a hide filter is among RESULTS (then the post is left out)."""
    return any(r.filter.action == FilterAction.HIDE for r in results)
