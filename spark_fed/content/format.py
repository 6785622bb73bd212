"""Turning the plain text a local user typed into the HTML a post carries, in Mastodon's markup.

Mastodon's web UI and apps recognise mentions, hashtags and shortened links by their markup (the
`h-card`/`u-url mention` span around a mention, `mention hashtag` on a tag link, the `invisible` and
`ellipsis` spans of a long URL), so Spark writes exactly that shape (``app/lib/text_formatter.rb``). The
rules for what counts as a mention or a hashtag are Mastodon's too (``Account::MENTION_RE``,
``Tag::HASHTAG_RE`` and twitter-text's end-of-mention check, as ``app/lib/extractor.rb`` applies them), so a
post means the same thing here and there.

Every link also carries the ``rel``/``target`` that `sanitize_html` puts on links, so the HTML produced here
passes through the sanitiser unchanged and local and remote posts can be stored and shown the same way.

URLs are found with linkify-it-py rather than a hand-written regex: it is a port of the JavaScript
linkify-it that markdown-it uses, with full Unicode host and path support, balanced parentheses and the
trailing-punctuation rules (``see https://example.com/a.`` does not take the dot) that a regex gets wrong.
Only links with an explicit ``http://`` or ``https://`` are made, as Mastodon does (its
``extract_url_without_protocol: false``); bare domains and e-mail addresses stay text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from linkify_it import LinkifyIt

from .sanitize import LINK_REL

__all__ = [
    "Formatted",
    "Hashtag",
    "LinkMention",
    "Mention",
    "TagUrl",
    "find_hashtags",
    "find_mentions",
    "format_plain_text",
    "hashtag_html",
    "link_html",
    "named_link_html",
    "normalize_tag",
]

#: Resolves a mention as written (``bob`` and ``example.com``, or ``alice`` and None for ``@alice``) to
#: ``(actor_url, profile_url)``, or None when there is no such account: the text then stays plain.
LinkMention = Callable[[str, str | None], tuple[str, str] | None]
#: The URL of a hashtag's page, given the tag as written (``Café`` for ``#Café``).
TagUrl = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Mention:
    """A mention that resolved to an account: what the post's AS2 ``tag`` and addressing need."""

    username: str  # as written
    host: str | None  # as written; None for a bare ``@username``
    actor_url: str  # the actor id: the `href` of the AS2 Mention, and the address to deliver to
    profile_url: str  # the actor's `url`: the link in the HTML, which Mastodon matches to the Mention

    @property
    def acct(self) -> str:
        """``user@host``, or ``user`` for a bare mention: the AS2 Mention's ``name`` without the ``@``."""
        return f"{self.username}@{self.host}" if self.host else self.username


@dataclass(frozen=True, slots=True)
class Hashtag:
    """A hashtag in a post: its first spelling, the name it is filed under, and its link."""

    name: str  # as first written, without the '#'
    normalized: str  # see `normalize_tag`
    url: str


@dataclass(frozen=True, slots=True)
class Formatted:
    """The HTML of a post, and what it mentions and tags, each listed once in order of appearance."""

    html: str
    mentions: tuple[Mention, ...]  # resolved, one per actor
    unresolved: tuple[tuple[str, str | None], ...]  # (username, host) left as plain text
    hashtags: tuple[Hashtag, ...]  # one per normalised name

    @property
    def tags(self) -> tuple[str, ...]:
        """The normalised names of the hashtags, as a timeline or search index files them."""
        return tuple(tag.normalized for tag in self.hashtags)


# --- characters -------------------------------------------------------------------------------------
# Python's `\w` leaves out combining marks (so a Hindi or Thai word would end at its first vowel sign)
# while Ruby's [[:word:]], which Mastodon's regexes use, has them: classify by Unicode category instead.


def _is_word(char: str) -> bool:
    """Onigmo's [[:word:]]: letters, marks, decimal digits and connector punctuation."""
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("Nd", "Pc")


def _is_alpha(char: str) -> bool:
    return char.isalpha()


def _is_username_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _sequence_end(text: str, start: int, is_char: Callable[[str], bool]) -> int:
    """End of ``c+([.-]+c+)*`` at `start` (greedy, as the regex matches), or `start` if none."""
    length = len(text)
    end = start
    while end < length and is_char(text[end]):
        end += 1
    if end == start:
        return start
    while True:
        punct = end
        while punct < length and text[punct] in ".-":
            punct += 1
        if punct == end:
            return end
        word = punct
        while word < length and is_char(text[word]):
            word += 1
        if word == punct:
            return end
        end = word


# --- mentions ---------------------------------------------------------------------------------------
_AT_SIGNS = "@\uff20"
_PORT = re.compile(r":\d{1,5}(?![\w:/])")
_MAX_DOMAIN_LENGTH = 253
# twitter-text's `latin_accents`: a mention followed by one of these was a word (``@josé``), not a name.
_LATIN_ACCENTS = re.compile(
    "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff]"
)


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    kind: str  # "url", "mention" or "hashtag"
    value: str  # the URL, the username, or the tag as written
    host: str | None = None


def _mention_spans(text: str) -> list[_Span]:
    """Mastodon's ``Account::MENTION_RE`` and twitter-text's ``end_mention_match``.

    ``@user`` or ``@user@host``; the ``@`` must not follow a word character, ``=`` or ``/`` (so an e-mail
    address, a URL path or ``a=@b`` is not a mention), and the match is dropped when it runs into another
    at sign, an accented Latin letter or ``://``.
    """
    spans: list[_Span] = []
    position = text.find("@")
    while position != -1:
        next_from = position + 1
        before = text[position - 1] if position else ""
        if not (before and (before in "=/" or _is_word(before))):
            user_end = _sequence_end(text, position + 1, _is_username_char)
            if user_end > position + 1:
                end, host = user_end, None
                if text.startswith("@", user_end):
                    host_end = _sequence_end(text, user_end + 1, _is_word)
                    port = _PORT.match(text, host_end) if host_end > user_end + 1 else None
                    if port:  # `localhost:8080`: development and test servers have ports in handles
                        host_end = port.end()
                    if host_end > user_end + 1:
                        end, host = host_end, text[user_end + 1 : host_end]
                next_from = end
                after = text[end : end + 3]
                ends_badly = after.startswith((*_AT_SIGNS, "://")) or bool(_LATIN_ACCENTS.match(after))
                too_long = host is not None and len(host) > _MAX_DOMAIN_LENGTH
                if not ends_badly and not too_long:
                    spans.append(_Span(position, end, "mention", text[position + 1 : user_end], host))
        position = text.find("@", next_from)
    return spans


# --- hashtags ---------------------------------------------------------------------------------------
_HASH_SIGNS = "#\uff03"
_TAG_SEPARATORS = "_\u00b7\u30fb\u200c"  # underscore, middle dot, katakana middle dot, ZWNJ
_TRAILING_SCHEME = re.compile(r"(.+?)(https?)\Z", re.DOTALL)


def _tag_name_end(text: str, start: int) -> int:
    """End of Mastodon's ``HASHTAG_NAME_PAT`` at `start`, or `start` if no tag name begins there.

    The pattern is ``FIRST|LAST``. FIRST is a word character, then word characters and separators, ending
    in a word character, with a letter or separator somewhere inside: it lets ``a·b`` and ``1_2`` be tags.
    LAST is a run of word characters with at least one letter. Either way a name of digits alone
    (``#123``) is not a tag.
    """
    length = len(text)
    end = start
    while end < length and (_is_word(text[end]) or text[end] in _TAG_SEPARATORS):
        end += 1
    run = text[start:end]
    if run and _is_word(run[0]):
        last = max(index for index, char in enumerate(run) if _is_word(char))
        if last >= 2 and any(_is_alpha(char) or char in _TAG_SEPARATORS for char in run[1:last]):
            return start + last + 1
    words = 0
    while words < len(run) and _is_word(run[words]):
        words += 1
    if any(_is_alpha(char) for char in run[:words]):
        return start + words
    return start


def _hashtag_spans(text: str) -> list[_Span]:
    """Mastodon's ``Tag::HASHTAG_RE``: ``#`` or ``＃`` at the start or after white space, then a name.

    So ``https://example.com/#anchor``, ``issue#12`` and ``mail#tag@example.com`` are not tags. A name
    that runs into ``://`` loses a trailing ``http``/``https`` (``#readhttps://…``), as in Mastodon.
    """
    spans: list[_Span] = []
    position = 0
    length = len(text)
    while position < length:
        if text[position] in _HASH_SIGNS and (position == 0 or text[position - 1].isspace()):
            end = _tag_name_end(text, position + 1)
            if end > position + 1:
                name = text[position + 1 : end]
                consumed = end
                if text.startswith("://", end):
                    trimmed = _TRAILING_SCHEME.match(name)
                    if trimmed:
                        name = trimmed.group(1)
                        end -= len(trimmed.group(2))
                spans.append(_Span(position, end, "hashtag", name))
                position = consumed
                continue
        position += 1
    return spans


_FOLDED = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}


def _fold(char: str) -> str:
    """Latin letters to ASCII (``é`` → ``e``), other scripts untouched, like Mastodon's ASCIIFolding."""
    if char.isascii():
        return char
    if char in _FOLDED:
        return _FOLDED[char]
    decomposed = unicodedata.normalize("NFKD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and base.isalpha() and all(unicodedata.combining(mark) for mark in marks):
        return base
    return char


def _keeps(char: str) -> bool:
    """Mastodon's ``HASHTAG_INVALID_CHARS_RE`` inverted: alphanumerics (with the combining marks Onigmo
    counts as alphabetic), the separators, and the Thai signs U+0E47–U+0E4E."""
    return (
        char.isalnum()
        or unicodedata.category(char)[0] == "M"
        or char in _TAG_SEPARATORS
        or "\u0e47" <= char <= "\u0e4e"
    )


def normalize_tag(name: str) -> str:
    """The name a hashtag is filed under, as Mastodon's ``HashtagNormalizer`` computes it.

    NFKC (full-width letters become ordinary ones), lower case, Latin letters folded to ASCII, anything
    that is not part of a tag name removed. ``#Café``, ``#cafe`` and ``#ＣＡＦＥ`` are the same tag.
    """
    folded = "".join(_fold(char) for char in unicodedata.normalize("NFKC", name).lower())
    return "".join(char for char in folded if _keeps(char))


# --- URLs -------------------------------------------------------------------------------------------
_LINKIFY = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
_URL_SCHEMAS = frozenset({"http:", "https:"})
# twitter-text's `valid_url_preceding_chars` refuses these before a URL (``$https://…``, ``@https://…``).
_NOT_BEFORE_URL = frozenset("@\uff20$#\uff03")
_URL_PREFIX = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)
_URL_DISPLAY_LENGTH = 30


def _url_spans(text: str) -> list[_Span]:
    if not _LINKIFY.test(text):
        return []
    spans = []
    for match in _LINKIFY.match(text) or []:
        if match.schema.lower() not in _URL_SCHEMAS:
            continue
        if match.index and text[match.index - 1] in _NOT_BEFORE_URL:
            continue
        spans.append(_Span(match.index, match.last_index, "url", text[match.index : match.last_index]))
    return spans


def _spans(text: str) -> list[_Span]:
    """All links, hashtags and mentions, without overlaps (the earliest-starting one wins, as in
    twitter-text's ``remove_overlapping_entities``): ``https://example.com/@bob`` is one link."""
    found = sorted(_url_spans(text) + _hashtag_spans(text) + _mention_spans(text), key=lambda s: s.start)
    kept: list[_Span] = []
    for span in found:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def _normalize_newlines(text: str) -> str:
    # NUL is dropped by HTML parsers, so keeping it would make the output change when re-parsed.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def find_mentions(text: str) -> list[tuple[str, str | None]]:
    """The mentions in `text` as written, each once: resolve them (WebFinger, the database) before
    calling `format_plain_text`, whose callback is synchronous."""
    seen: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for span in _spans(_normalize_newlines(text)):
        if span.kind == "mention":
            seen.setdefault(_mention_key(span.value, span.host), (span.value, span.host))
    return list(seen.values())


def find_hashtags(text: str) -> list[str]:
    """The normalised names of the hashtags in `text`, each once, in order."""
    spans = _spans(_normalize_newlines(text))
    return list(dict.fromkeys(normalize_tag(span.value) for span in spans if span.kind == "hashtag"))


def _mention_key(username: str, host: str | None) -> tuple[str, str | None]:
    return username.lower(), host.lower() if host else None


# --- HTML -------------------------------------------------------------------------------------------
# Escaped exactly as html5ever (and so nh3) serialises, so that sanitising the output is a no-op.


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")


def link_html(url: str) -> str:
    """Mastodon's shortened link: the scheme (and ``www.``) hidden, 30 characters shown, the rest hidden
    behind an ellipsis. Copying the link text still gives the whole URL."""
    prefix = _URL_PREFIX.match(url)
    hidden = prefix.group(0) if prefix else ""
    rest = url[len(hidden) :]
    shown, suffix = rest[:_URL_DISPLAY_LENGTH], rest[_URL_DISPLAY_LENGTH:]
    if len(suffix) == 1:  # an ellipsis would hide no more than it takes up
        shown, suffix = rest, ""
    shown_class = "ellipsis" if suffix else ""
    return (
        f'<a href="{_attr(url)}" target="_blank" rel="{LINK_REL}" translate="no">'
        f'<span class="invisible">{_text(hidden)}</span>'
        f'<span class="{shown_class}">{_text(shown)}</span>'
        f'<span class="invisible">{_text(suffix)}</span></a>'
    )


def named_link_html(url: str, text: str) -> str:
    """A link shown as TEXT rather than its address (an import's "In reply to @jack")."""
    return f'<a href="{_attr(url)}" target="_blank" rel="{LINK_REL}">{_text(text)}</a>'


def hashtag_html(url: str, name: str) -> str:
    """A hashtag's link as Mastodon marks it up; NAME as written, without the '#'."""
    return _hashtag_html(url, name)


def _mention_html(profile_url: str, display: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{_attr(profile_url)}" class="u-url mention"'
        f' target="_blank" rel="{LINK_REL}">@<span>{_text(display)}</span></a></span>'
    )


def _hashtag_html(url: str, name: str) -> str:
    return (
        f'<a href="{_attr(url)}" class="mention hashtag" rel="tag {LINK_REL}" target="_blank">'
        f"#<span>{_text(name)}</span></a>"
    )


_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")


def format_plain_text(text: str, *, link_mention: LinkMention, tag_url: TagUrl) -> Formatted:
    """Turn what a user typed into a post's HTML, in Mastodon's markup.

    Everything is escaped. A blank line starts a new paragraph (a line of only spaces counts as blank),
    a single newline is a ``<br>``. ``http(s)://`` URLs become shortened links, hashtags link to
    `tag_url` (called with the tag as written), and each distinct mention is passed once to
    `link_mention`: an account it resolves links to its profile, one it does not stays plain text.
    As in Mastodon a mention shows ``@username`` only, unless two mentioned accounts share a username,
    when those show ``@username@host``.
    """
    text = _normalize_newlines(text).strip()
    spans = _spans(text)

    resolved: dict[tuple[str, str | None], tuple[str, str] | None] = {}
    for span in spans:
        if span.kind == "mention":
            key = _mention_key(span.value, span.host)
            if key not in resolved:
                resolved[key] = link_mention(span.value, span.host)
    actors_by_username: dict[str, set[str]] = {}
    for (username, _), target in resolved.items():
        if target is not None:
            actors_by_username.setdefault(username, set()).add(target[0])

    mentions: dict[str, Mention] = {}
    unresolved: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    hashtags: dict[str, Hashtag] = {}
    out: list[str] = []
    last = 0
    for span in spans:
        out.append(_text(text[last : span.start]))
        last = span.end
        if span.kind == "url":
            out.append(link_html(span.value))
        elif span.kind == "hashtag":
            url = tag_url(span.value)
            normalized = normalize_tag(span.value)
            hashtags.setdefault(normalized, Hashtag(span.value, normalized, url))
            out.append(_hashtag_html(url, span.value))
        else:
            key = _mention_key(span.value, span.host)
            target = resolved[key]
            if target is None:
                unresolved.setdefault(key, (span.value, span.host))
                out.append(_text(text[span.start : span.end]))
                continue
            actor_url, profile_url = target
            mentions.setdefault(actor_url, Mention(span.value, span.host, actor_url, profile_url))
            ambiguous = len(actors_by_username[key[0]]) > 1
            display = f"{span.value}@{span.host}" if ambiguous and span.host else span.value
            out.append(_mention_html(profile_url, display))
    out.append(_text(text[last:]))

    body = "".join(out)
    paragraphs = [paragraph for paragraph in _PARAGRAPH_BREAK.split(body) if paragraph.strip()]
    html = "".join("<p>" + paragraph.replace("\n", "<br>") + "</p>" for paragraph in paragraphs)
    return Formatted(
        html=html,
        mentions=tuple(mentions.values()),
        unresolved=tuple(unresolved.values()),
        hashtags=tuple(hashtags.values()),
    )
