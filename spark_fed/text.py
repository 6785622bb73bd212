"""Turning plain text that a user typed into the HTML that ActivityPub carries."""

import html


def plain_to_html(text: str) -> str:
    """Paragraphs on blank lines, <br> on single newlines, everything escaped."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs if p
    )
