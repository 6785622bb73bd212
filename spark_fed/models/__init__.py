"""The data model. Importing this package registers every table on SQLModel.metadata."""

from .account import INSTANCE_ACTOR_USERNAME, Account
from .credentials import AccessToken, Marker, OAuthApp, User, WebSession
from .follow import Follow, FollowState
from .jobs import Delivery, HostFailure, InboxItem, JobState, QueuedJob
from .media import MediaAttachment
from .status import (
    Favourite,
    FeedEntry,
    Mention,
    Notification,
    NotificationType,
    Status,
    StatusTag,
    Tag,
    Tombstone,
    Visibility,
)

__all__ = [
    "INSTANCE_ACTOR_USERNAME",
    "AccessToken",
    "Account",
    "Delivery",
    "Favourite",
    "FeedEntry",
    "Follow",
    "FollowState",
    "HostFailure",
    "InboxItem",
    "JobState",
    "Marker",
    "MediaAttachment",
    "Mention",
    "Notification",
    "NotificationType",
    "OAuthApp",
    "QueuedJob",
    "Status",
    "StatusTag",
    "Tag",
    "Tombstone",
    "User",
    "Visibility",
    "WebSession",
]
