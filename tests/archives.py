"""Archives in the real formats, built in the tests: Twitter/X (`window.YTD…` files under data/,
pictures under data/tweets_media/) and Mastodon (outbox.json, actor.json, media_attachments/)."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

ACCOUNT_ID = "1111"
USERNAME = "oldbird"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def picture(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    return out.getvalue()


def tweet(
    tweet_id: str,
    text: str,
    created_at: str,
    *,
    urls: list[dict[str, Any]] = (),
    media: list[dict[str, Any]] = (),
    reply_to: str | None = None,
    reply_to_user: tuple[str, str] | None = None,
    hashtags: list[str] = (),
    mentions: list[str] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "edit_info": {"initial": {"editTweetIds": [tweet_id], "editableUntil": "2018-10-10T21:19:24.000Z"}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [{"text": h, "indices": ["0", "0"]} for h in hashtags],
            "symbols": [],
            "user_mentions": [
                {"name": m, "screen_name": m, "indices": ["0", "0"], "id_str": "99", "id": "99"}
                for m in mentions
            ],
            "urls": list(urls),
        },
        "display_text_range": ["0", str(len(text))],
        "favorite_count": "3",
        "id_str": tweet_id,
        "truncated": False,
        "retweet_count": "0",
        "id": tweet_id,
        "created_at": created_at,
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    if media:
        body["entities"]["media"] = list(media)
        body["extended_entities"] = {"media": list(media)}
    if reply_to is not None:
        user_id, screen_name = reply_to_user or (ACCOUNT_ID, USERNAME)
        body.update(
            in_reply_to_status_id_str=reply_to,
            in_reply_to_status_id=reply_to,
            in_reply_to_user_id_str=user_id,
            in_reply_to_user_id=user_id,
            in_reply_to_screen_name=screen_name,
        )
    return {"tweet": body}


def photo_entity(
    tweet_id: str, tco: str, name: str, alt: str | None = None, kind: str = "photo"
) -> dict[str, Any]:
    entity = {
        "expanded_url": f"https://twitter.com/{USERNAME}/status/{tweet_id}/photo/1",
        "indices": ["0", "0"],
        "url": tco,
        "media_url": f"http://pbs.twimg.com/media/{name}.jpg",
        "id_str": f"{tweet_id}9",
        "id": f"{tweet_id}9",
        "media_url_https": f"https://pbs.twimg.com/media/{name}.jpg",
        "sizes": {"large": {"w": "64", "h": "48", "resize": "fit"}},
        "type": kind,
        "display_url": "pic.twitter.com/" + name,
    }
    if alt is not None:
        entity["ext_alt_text"] = alt
    return entity


def ytd(kind: str, part: int, items: list[Any]) -> bytes:
    return f"window.YTD.{kind}.part{part} = {json.dumps(items, indent=2)}".encode()


def standard_tweets() -> list[list[dict[str, Any]]]:
    """Two parts: a thread of three, a link, a picture, a retweet, a reply to someone else."""
    part0 = [
        tweet(
            "1000",
            "Hello &amp; welcome to my #FirstTweet, see https://t.co/abc123 &lt;3",
            "Wed Oct 10 20:19:24 +0000 2018",
            urls=[
                {
                    "url": "https://t.co/abc123",
                    "expanded_url": "https://example.com/a?b=1&c=2",
                    "display_url": "example.com/a?b=1…",
                    "indices": ["45", "68"],
                }
            ],
            hashtags=["FirstTweet"],
        ),
        tweet("1001", "A thread starts", "Thu Oct 11 08:00:00 +0000 2018"),
        tweet(
            "1002", "@oldbird second", "Thu Oct 11 08:01:00 +0000 2018", reply_to="1001", mentions=["oldbird"]
        ),
        tweet(
            "1003", "@oldbird third", "Thu Oct 11 08:02:00 +0000 2018", reply_to="1002", mentions=["oldbird"]
        ),
        tweet("1004", "RT @someone: their words", "Fri Oct 12 09:00:00 +0000 2018", mentions=["someone"]),
    ]
    part1 = [
        tweet(
            "1005",
            "My cat https://t.co/pic555",
            "Sat Oct 13 10:00:00 +0000 2018",
            media=[photo_entity("1005", "https://t.co/pic555", "CatPic", alt="A red cat")],
        ),
        tweet(
            "1006",
            "@jack I agree",
            "Sun Oct 14 11:00:00 +0000 2018",
            reply_to="20",
            reply_to_user=("12", "jack"),
            mentions=["jack"],
        ),
    ]
    return [part0, part1]


def twitter_zip(
    path: Path,
    parts: list[list[dict[str, Any]]] | None = None,
    *,
    extra: dict[str, bytes] | None = None,
    cut_tweets: bool = False,
) -> Path:
    parts = standard_tweets() if parts is None else parts
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "data/account.js",
            ytd(
                "account",
                0,
                [
                    {
                        "account": {
                            "email": "a@example.com",
                            "createdVia": "web",
                            "username": USERNAME,
                            "accountId": ACCOUNT_ID,
                            "createdAt": "2010-01-01T00:00:00.000Z",
                            "accountDisplayName": "Old Bird",
                        }
                    }
                ],
            ),
        )
        z.writestr(
            "data/profile.js",
            ytd(
                "profile",
                0,
                [
                    {
                        "profile": {
                            "description": {"bio": "Tweeting since 2010", "website": "", "location": ""},
                            "avatarMediaUrl": "https://pbs.twimg.com/profile_images/1/a.jpg",
                        }
                    }
                ],
            ),
        )
        for index, items in enumerate(parts):
            name = "data/tweets.js" if index == 0 else f"data/tweets-part{index}.js"
            data = ytd("tweets", index, items)
            if cut_tweets and index == len(parts) - 1:
                data = data[: len(data) // 2]
            z.writestr(name, data)
        z.writestr("data/tweets_media/1005-CatPic.jpg", picture())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def mastodon_zip(
    path: Path,
    actor_url: str = "https://old.example/users/olduser",
    *,
    extra: list[dict[str, Any]] = (),
) -> Path:
    """EXTRA: more notes, each a dict of what differs from a plain public note (`content` at least),
    numbered from 100 and, unless they say `published`, published a day apart from 2019-04-01."""
    followers = f"{actor_url}/followers"

    def create(n: int, published: str, content: str, **note: Any) -> dict[str, Any]:
        note_id = f"{actor_url}/statuses/{n}"
        obj = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": published,
            "url": f"https://old.example/@olduser/{n}",
            "attributedTo": actor_url,
            "to": [PUBLIC],
            "cc": [followers],
            "sensitive": False,
            "content": content,
            "contentMap": {"en": content},
            "attachment": [],
            "tag": [],
        }
        obj.update(note)
        return {
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor_url,
            "published": published,
            "to": obj["to"],
            "cc": obj["cc"],
            "object": obj,
        }

    items = [
        create(
            1,
            "2019-03-01T10:00:00Z",
            '<p>Hello <a href="https://old.example/tags/fediverse" class="mention hashtag" rel="tag">'
            "#<span>fediverse</span></a><script>x</script></p>",
            tag=[{"type": "Hashtag", "href": "https://old.example/tags/fediverse", "name": "#fediverse"}],
        ),
        create(2, "2019-03-02T10:00:00Z", "<p>Spoilers inside</p>", summary="Film spoilers", sensitive=True),
        create(3, "2019-03-03T10:00:00Z", "<p>Only for followers</p>", to=[followers], cc=[]),
        create(4, "2019-03-04T10:00:00Z", "<p>A reply to myself</p>", inReplyTo=f"{actor_url}/statuses/1"),
        create(
            5,
            "2019-03-05T10:00:00Z",
            "<p>A picture</p>",
            attachment=[
                {
                    "type": "Document",
                    "mediaType": "image/jpeg",
                    "url": "/media_attachments/files/000/000/005/original/pic.jpg",
                    "name": "A blue square",
                    "blurhash": "LEHV6nWB2yk8",
                    "width": 64,
                    "height": 48,
                }
            ],
        ),
        {
            "id": f"{actor_url}/statuses/6/activity",
            "type": "Announce",
            "actor": actor_url,
            "published": "2019-03-06T10:00:00Z",
            "to": [PUBLIC],
            "cc": [followers],
            "object": "https://elsewhere.example/notes/1",
        },
    ]
    for n, note in enumerate(extra):
        fields = dict(note)
        published = fields.pop("published", f"2019-04-{n + 1:02d}T10:00:00Z")
        items.append(create(100 + n, published, fields.pop("content"), **fields))
    outbox = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }
    actor = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_url,
        "type": "Person",
        "following": f"{actor_url}/following",
        "followers": followers,
        "inbox": f"{actor_url}/inbox",
        "outbox": "outbox.json",
        "preferredUsername": "olduser",
        "name": "Old User",
        "summary": "<p>Moved from old.example</p>",
        "url": "https://old.example/@olduser",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("outbox.json", json.dumps(outbox))
        z.writestr("actor.json", json.dumps(actor))
        z.writestr("likes.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
        z.writestr("media_attachments/files/000/000/005/original/pic.jpg", picture((20, 40, 220)))
    return path
