"""The instance endpoints clients read before anything else."""

import hashlib

from aiohttp import web

import spark_fed
from spark_fed.accounts import posting_defaults
from spark_fed.config import Config
from spark_fed.domain_policy import REJECT_MEDIA
from spark_fed.http.responses import json_response
from spark_fed.media.service import MAX_ATTACHMENTS
from spark_fed.media.storage import EXTENSIONS
from spark_fed.polls import poll_limits
from spark_fed.queries.accounts import count_local_users
from spark_fed.queries.moderation import list_domain_blocks
from spark_fed.queries.statuses import count_local_posts
from spark_fed.state import CONTEXT

from .auth import require

routes = web.RouteTableDef()

# Clients parse the leading x.y.z to decide what they may call (Mastodon.py refuses some
# features below 4.x); "compatible" is how other servers say what they are.
API_VERSION = f"4.5.0 (compatible; Spark {spark_fed.__version__})"


def _limits(config: Config) -> dict:
    """What apps read before offering a compose box: text length, and images (no video yet)."""
    return {
        "statuses": {
            "max_characters": config.instance.max_post_chars,
            "max_media_attachments": MAX_ATTACHMENTS,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": sorted(EXTENSIONS),
            "image_size_limit": config.media.max_upload_bytes,
            "image_matrix_limit": config.media.max_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": poll_limits(config.instance),
        "accounts": {"max_featured_tags": 0},
    }


@routes.get("/api/v1/instance")
@routes.get("/api/v1/instance/")
async def instance_v1(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    config = ctx.config
    async with ctx.db.read() as session:
        users = await count_local_users(session)
        posts = await count_local_posts(session)
    return json_response(
        {
            "uri": config.server.domain,
            "title": config.instance.title,
            "short_description": config.instance.description,
            "description": config.instance.description,
            "email": config.instance.contact_email,
            "version": API_VERSION,
            "urls": {"streaming_api": ""},
            "stats": {"user_count": users, "status_count": posts, "domain_count": 0},
            "thumbnail": None,
            "languages": ["en"],
            "registrations": config.instance.registrations == "open",
            "approval_required": config.instance.registrations == "approval",
            "invites_enabled": False,
            "configuration": _limits(config),
            "contact_account": None,
            "rules": instance_rules(config),
        }
    )


@routes.get("/api/v2/instance")
@routes.get("/api/v2/instance/")
async def instance_v2(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    config = ctx.config
    async with ctx.db.read() as session:
        users = await count_local_users(session)
    configuration = _limits(config)
    configuration["urls"] = {"streaming": None}
    configuration["accounts"]["max_pinned_statuses"] = 0
    configuration["translation"] = {"enabled": False}
    return json_response(
        {
            "domain": config.server.domain,
            "title": config.instance.title,
            "version": API_VERSION,
            # Mastodon 4.3's API revision; clients that read the version expect it beside it.
            "api_versions": {"mastodon": 7},
            "source_url": "",
            "description": config.instance.description,
            "usage": {"users": {"active_month": users}},
            "thumbnail": {"url": ctx.urls.default_header},
            "icon": [],  # Spark has no app icons of its own; apps show their default
            "languages": ["en"],
            "configuration": configuration,
            "registrations": {
                "enabled": config.instance.registrations == "open",
                "approval_required": config.instance.registrations == "approval",
                "message": None,
            },
            "contact": {"email": config.instance.contact_email, "account": None},
            "rules": instance_rules(config),
        }
    )


def instance_rules(config: Config) -> list[dict[str, str]]:
    """Mastodon's Rule entities; ids are the rules' places in `[instance] rules`, from "1"."""
    return [{"id": str(i), "text": text, "hint": ""} for i, text in enumerate(config.instance.rules, 1)]


@routes.get("/api/v1/instance/rules")
async def rules(request: web.Request) -> web.Response:
    return json_response(instance_rules(request.app[CONTEXT].config))


@routes.get("/api/v1/instance/domain_blocks")
async def domain_blocks(request: web.Request) -> web.Response:
    """Mastodon's DomainBlock entities: the instance's blocks that limit what its users see
    (silence and suspend), with their public comments (the private `reason` stays private).
    A media-only block is left out, as Mastodon leaves out its `noop` blocks here."""
    async with request.app[CONTEXT].db.read() as session:
        blocks = await list_domain_blocks(session)
    return json_response(
        [
            {
                "domain": block.domain,
                "digest": hashlib.sha256(block.domain.encode("utf-8")).hexdigest(),
                "severity": block.severity,
                "comment": block.public_comment or None,
            }
            for block in blocks
            if block.severity != REJECT_MEDIA
        ]
    )


@routes.get("/api/v1/custom_emojis")
async def custom_emojis(_request: web.Request) -> web.Response:
    return json_response([])


@routes.get("/api/v1/preferences")
async def preferences(request: web.Request) -> web.Response:
    viewer = await require(request, "read:accounts")
    user = await posting_defaults(request.app[CONTEXT].db, viewer)
    return json_response(
        {
            "posting:default:visibility": "private"
            if user.default_visibility == "followers"
            else user.default_visibility,
            "posting:default:sensitive": user.default_sensitive,
            "posting:default:language": user.default_language,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )
