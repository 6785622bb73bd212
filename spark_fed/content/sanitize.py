"""Cleaning HTML that other servers send us, to Mastodon's strict allow-list.

Remote post content reaches browsers, so it goes through `sanitize_html` before it is stored or shown.
The rules are Mastodon's `MASTODON_STRICT` (listed in docs/interop.md, Notes) because that is what
every fediverse author already writes for: a post that looks right on Mastodon looks right here. Where
Spark is stricter (docs/decisions.md): links keep only http, https and mailto targets (Mastodon also lets
dat, ipfs, gemini and friends through) and only the seven classes our own markup and Mastodon's need
survive, ``quote-inline`` among them (Mastodon keeps every microformat class too).

nh3 (ammonia) does the cleaning, and it has the last word: the HTML we return is always its output. It
cannot do three things Mastodon does, so the work is done in three steps:

1. nh3 parses the input the way browsers do and keeps a slightly wider set of elements (headings,
   block containers, MathML) so that step 2 can see them; everything is now well-formed and canonical.
2. A small rewriter walks that canonical HTML and does what Mastodon's transformers do: a heading
   becomes ``<p><strong>``; a link to anything but http(s)/mailto becomes its plain text; a removed block
   element leaves a space so that words on either side do not run together; FEP-dc88 math becomes its
   TeX or plain-text annotation; every link gets ``rel="nofollow noopener noreferrer"`` (keeping a
   ``tag``) and ``target="_blank"``.
3. nh3 runs again with the strict allow-list, so nothing the rewriter did (or got wrong) can let markup
   through that the allow-list does not permit.
"""

from __future__ import annotations

import functools
import html as _html
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

__all__ = [
    "ALLOWED_CLASSES",
    "ALLOWED_ELEMENTS",
    "LINK_REL",
    "plain_text",
    "sanitize_html",
]

#: Mastodon's MASTODON_STRICT elements (vanilla; glitch-soc also keeps abbr, sub, sup and headings).
ALLOWED_ELEMENTS: frozenset[str] = frozenset(
    {"p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em"}
    | {"ul", "ol", "li", "ruby", "rt", "rp"}
)

#: The classes Spark keeps: mentions and hashtags (`mention`, `hashtag`, and the microformats
#: `h-card`/`u-url` Mastodon puts on mentions), Mastodon's long-URL shortening (`invisible`, `ellipsis`)
#: and the "RE: link" line of a quote (`quote-inline`), which readers hide beside the quoted card.
ALLOWED_CLASSES: frozenset[str] = frozenset(
    {"mention", "hashtag", "u-url", "h-card", "invisible", "ellipsis", "quote-inline"},
)

#: What every link gets: no ranking credit for spam, no `window.opener`, no Referer to the target.
LINK_REL = "nofollow noopener noreferrer"
_FORCED_REL = tuple(LINK_REL.split())
#: `rel` tokens a remote author may keep: `tag` marks a hashtag link (microformats rel-tag).
_KEPT_REL = frozenset({"tag"})

_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_ALLOWED_HREF = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
_ASCII_WHITESPACE = " \t\n\r\f"

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Block elements that are removed but leave a space where they stood, as Sanitize's
# `whitespace_elements` does for Mastodon (plus table cells, which would otherwise glue words together).
_SPACED = frozenset(
    {"address", "article", "aside", "dd", "div", "dl", "dt", "figcaption", "figure", "footer", "header"}
    | {"hgroup", "hr", "main", "nav", "section", "table", "thead", "tbody", "tfoot", "tr", "td", "th"}
    | {"caption", "details", "summary"}
)
_VOID = frozenset({"br", "hr"})
_MATH = frozenset({"math", "semantics", "annotation"})
# Removed together with everything inside them: Sanitize's `remove_contents` default, which Mastodon
# uses, plus `template`. Nothing in a script or a style sheet is text a reader should see.
_REMOVE_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noembed", "noframes", "noscript", "plaintext", "svg", "xmp", "template"}
)

_GLOBAL_ATTRIBUTES = {"lang"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _GLOBAL_ATTRIBUTES,
    "a": {"href", "rel", "target"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
_CLASSED = ("a", "span", "p")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Step 3's last check on link attributes, whatever step 2 produced."""
    if tag != "a":
        return value
    if attribute == "href":
        value = value.strip(_ASCII_WHITESPACE)
        return value if _ALLOWED_HREF.match(value) else None
    if attribute == "rel":
        return _link_rel(value)
    if attribute == "target":
        return "_blank"
    return value


def _link_rel(value: str | None) -> str:
    """The `rel` a link ends up with: the kept tokens it had, then the forced ones."""
    kept = [token for token in (value or "").lower().split() if token in _KEPT_REL]
    return " ".join(dict.fromkeys([*kept, *_FORCED_REL]))


@functools.cache
def _cleaners() -> tuple[nh3.Cleaner, nh3.Cleaner]:
    """The two nh3 cleaners (steps 1 and 3), built on first use.

    nh3 is imported here, not at start-up: a server that never receives remote HTML never pays
    for it (docs/decisions.md, Footprint).
    """
    import nh3

    # Step 1: canonical, safe HTML that still shows what step 2 needs to see.
    wide = nh3.Cleaner(
        tags=set(ALLOWED_ELEMENTS | _HEADINGS | _SPACED | _MATH),
        clean_content_tags=set(_REMOVE_WITH_CONTENT),
        attributes={
            **_ATTRIBUTES,
            "a": {"href", "rel", "target", "class", "translate"},
            "span": {"class", "translate"},
            "p": {"class"},
            "math": {"display"},
            "annotation": {"encoding"},
        },
        link_rel=None,
        url_schemes=set(_LINK_SCHEMES),
        strip_comments=True,
    )
    # Step 3: the strict allow-list.
    strict = nh3.Cleaner(
        tags=set(ALLOWED_ELEMENTS),
        clean_content_tags=set(_REMOVE_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        # Mastodon keeps `translate` only when it says "no" (do not machine-translate a name or a URL).
        tag_attribute_values={"a": {"translate": {"no"}}, "span": {"translate": {"no"}}},
        allowed_classes={tag: set(ALLOWED_CLASSES) for tag in _CLASSED},
        attribute_filter=_filter_attribute,
        link_rel=None,
        url_schemes=set(_LINK_SCHEMES),
        strip_comments=True,
    )
    return wide, strict


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _start_tag(tag: str, attrs: list[tuple[str, str]]) -> str:
    rendered = "".join(f' {name}="{_html.escape(value, quote=True)}"' for name, value in attrs)
    return f"<{tag}{rendered}>"


class _Math:
    """What the rewriter gathers inside one `<math>` element (FEP-dc88)."""

    def __init__(self, display: str | None) -> None:
        self.display = display
        self.depth = 1
        self.first_child_seen = False
        self.has_semantics = False
        self.annotation: str | None = None  # the encoding of the annotation being read, if any
        self.annotations: dict[str, str] = {}

    def render(self) -> str:
        """Mastodon's MATH_TRANSFORMER: TeX in dollars, else the plain-text annotation, else nothing."""
        if not self.has_semantics:
            return ""
        tex = self.annotations.get("application/x-tex")
        if tex is not None:
            return f"$${tex}$$" if self.display == "block" else f"${tex}$"
        return self.annotations.get("text/plain", "")


class _Rewriter(HTMLParser):
    """Step 2: Mastodon's transformers, applied to nh3's canonical output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[bool] = []  # one per open <a>: kept (True) or reduced to its text (False)
        self.math: _Math | None = None

    @property
    def _in_dropped_link(self) -> bool:
        return not all(self.links)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = [(name, value or "") for name, value in attrs]
        if self.math is not None:
            self._math_start(tag, dict(values))
        elif tag == "a":
            self._link_start(values)
        elif tag == "math":
            self.math = _Math(dict(values).get("display"))
        elif self._in_dropped_link:
            pass  # Mastodon replaces the whole link by its text
        elif tag in _HEADINGS:
            self.out.append("<p><strong>")
        elif tag in _SPACED:
            self.out.append(" ")
        elif tag in ALLOWED_ELEMENTS:
            # A parser drops one newline right after <pre>: give it one to drop (see `_PRE_NEWLINE`).
            self.out.append(_start_tag(tag, values) + ("\n" if tag == "pre" else ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.math is not None:
            self._math_end(tag)
        elif tag == "a":
            if self.links and self.links.pop() and all(self.links):
                self.out.append("</a>")
        elif self._in_dropped_link or tag in _VOID:
            pass
        elif tag in _HEADINGS:
            self.out.append("</strong></p>")
        elif tag in _SPACED:
            self.out.append(" ")
        elif tag in ALLOWED_ELEMENTS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.math is not None:
            if self.math.annotation is not None:
                encoding = self.math.annotation
                self.math.annotations[encoding] = self.math.annotations.get(encoding, "") + data
        else:
            self.out.append(_escape_text(data))

    def _link_start(self, attrs: list[tuple[str, str]]) -> None:
        href = dict(attrs).get("href", "").strip(_ASCII_WHITESPACE)
        keep = not self._in_dropped_link and bool(_ALLOWED_HREF.match(href))
        self.links.append(keep)
        if not keep:
            return
        rewritten: list[tuple[str, str]] = []
        for name, value in attrs:
            if name == "href":
                value = href
            elif name == "rel":
                value = _link_rel(value)
            elif name == "target":
                value = "_blank"
            rewritten.append((name, value))
        names = {name for name, _ in rewritten}
        if "target" not in names:
            rewritten.append(("target", "_blank"))
        if "rel" not in names:
            rewritten.append(("rel", LINK_REL))
        self.out.append(_start_tag("a", rewritten))

    def _math_start(self, tag: str, attrs: dict[str, str]) -> None:
        math = self.math
        assert math is not None
        if tag in _VOID:
            return
        math.depth += 1
        if math.depth == 2 and not math.first_child_seen:
            math.first_child_seen = True
            math.has_semantics = tag == "semantics"
        if tag == "annotation" and math.depth == 3 and math.has_semantics:
            math.annotation = attrs.get("encoding", "")

    def _math_end(self, tag: str) -> None:
        math = self.math
        assert math is not None
        if tag in _VOID:
            return
        if tag == "annotation":
            math.annotation = None
        math.depth -= 1
        if math.depth == 0:
            self.math = None
            self.out.append(_escape_text(math.render()))


# html5ever writes `<pre>\ncode` for a pre whose text starts with a newline, and a parser drops that
# newline when it reads the HTML back: double it so that the text survives being sanitised again.
_PRE_NEWLINE = re.compile(r'(<pre(?: [a-z-]+="[^"]*")*>)\n')


def sanitize_html(html: str) -> str:
    """Return remote `html` reduced to what Mastodon's strict allow-list (as Spark narrows it) keeps.

    Safe to show in a page as it is. Running it again on its own output changes nothing, and the HTML
    that `format_plain_text` produces comes back unchanged, so local and remote posts can share one path.
    """
    if not html:
        return ""
    wide, strict = _cleaners()
    rewriter = _Rewriter()
    rewriter.feed(wide.clean(html))
    rewriter.close()
    cleaned = strict.clean("".join(rewriter.out)).strip(_ASCII_WHITESPACE)
    return _PRE_NEWLINE.sub("\\1\n\n", cleaned)


_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol"} | _HEADINGS)
_COLLAPSE = re.compile(r"[ \t\n\r\f]+")


class _TextCollector(HTMLParser):
    """Text with the breaks a reader would see: a blank line between blocks, a newline per <br> and item."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, bool] | int] = []  # (text, inside <pre>), or a break: 1 = \n, 2 = \n\n
        self.pre = 0

    def _break(self, size: int) -> None:
        if self.parts and isinstance(self.parts[-1], int):
            self.parts[-1] = max(self.parts[-1], size)
        else:
            self.parts.append(size)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append(1)  # consecutive <br>s are consecutive newlines
        elif tag == "li":
            self._break(1)
        elif tag in _BLOCKS:
            self._break(2)
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._break(1)
        elif tag in _BLOCKS:
            self._break(2)
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.pre:
            self.parts.append((data, True))
        else:
            self.parts.append((_COLLAPSE.sub(" ", data), False))

    def text(self) -> str:
        """Join the parts; spaces next to a break (outside <pre>) are layout, not text, and go."""
        pieces: list[str] = []
        for index, part in enumerate(self.parts):
            if isinstance(part, int):
                pieces.append("\n" * part)
                continue
            text, pre = part
            if not pre:
                if index == 0 or isinstance(self.parts[index - 1], int):
                    text = text.lstrip(" ")
                if index == len(self.parts) - 1 or isinstance(self.parts[index + 1], int):
                    text = text.rstrip(" ")
            pieces.append(text)
        return "".join(pieces).strip("\n")


def plain_text(html: str) -> str:
    """The text of a post's HTML, for notifications, search and command-line previews.

    The input is sanitised first, so it may be raw remote HTML. Links show their full address (the
    `invisible` parts of a shortened URL are text too, as in Mastodon's own plain-text rendering).
    The result is *text*, not HTML: escape it before putting it into a page.
    """
    collector = _TextCollector()
    collector.feed(sanitize_html(html))
    collector.close()
    return collector.text()
