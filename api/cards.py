"""Mastodon's PreviewCard entity from a stored card and its image row."""

from typing import Any

from spark_fed.models import MediaAttachment, PreviewCard
from spark_fed.models.media import FetchState
from spark_fed.urls import Urls

from .entities import iso

CardRow = tuple[PreviewCard, MediaAttachment | None]
"""A card and its image, as `spark_fed.cards.store.cards_of` loads them for a page."""


def card_entity(row: CardRow, urls: Urls) -> dict[str, Any]:
    """The image is Spark's own URL (the media proxy fetches it when first shown); one that
    failed the checks is left out. Its size and blurhash are the image's own once it is stored,
    the page's claim until then."""
    card, image = row
    shown = image is not None and image.fetch_state != FetchState.FAILED
    width = (image.width if shown and image.width else None) or card.width
    height = (image.height if shown and image.height else None) or card.height
    authors = (
        [{"name": card.author_name, "url": card.author_url, "account": None}]
        if card.author_name or card.author_url
        else []
    )
    return {
        "url": card.url,
        "title": card.title,
        "description": card.description,
        "language": None,
        "type": card.type,
        "author_name": card.author_name,
        "author_url": card.author_url,
        "authors": authors,
        "provider_name": card.provider_name,
        "provider_url": card.provider_url,
        "html": card.html,
        "width": width,
        "height": height,
        "image": urls.media(image.id) if shown and image is not None else None,
        "image_description": card.image_description,
        "embed_url": card.embed_url,
        "blurhash": image.blurhash if shown and image is not None else None,
        "published_at": iso(card.published_at),
    }
