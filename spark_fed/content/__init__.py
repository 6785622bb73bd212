"""Post content: the HTML Spark writes for its own users and the HTML it accepts from other servers.

`format_plain_text` turns what a local user typed into Mastodon-shaped HTML (paragraphs, shortened
links, mentions, hashtags); `sanitize_html` reduces remote HTML to Mastodon's strict allow-list, and
leaves Spark's own output as it is; `plain_text` gives the text of either, for notifications, search
and the command line.
"""

from .format import (
    Formatted,
    Hashtag,
    LinkMention,
    Mention,
    TagUrl,
    find_hashtags,
    find_mentions,
    format_plain_text,
    normalize_tag,
)
from .sanitize import ALLOWED_CLASSES, ALLOWED_ELEMENTS, LINK_REL, plain_text, sanitize_html

__all__ = [
    "ALLOWED_CLASSES",
    "ALLOWED_ELEMENTS",
    "LINK_REL",
    "Formatted",
    "Hashtag",
    "LinkMention",
    "Mention",
    "TagUrl",
    "find_hashtags",
    "find_mentions",
    "format_plain_text",
    "normalize_tag",
    "plain_text",
    "sanitize_html",
]
