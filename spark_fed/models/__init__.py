"""The data model. Importing this package registers every table on SQLModel.metadata."""

from .account import INSTANCE_ACTOR_USERNAME, Account
from .cards import CardFetch, PreviewCard, StatusCard
from .changes import ChangeMarker
from .credentials import AccessToken, Marker, OAuthApp, User, WebSession
from .edits import StatusEdit
from .follow import Follow, FollowState
from .ids import IdCounter
from .imports import ImportedItem, ImportJob, ImportKind, ImportState
from .jobs import Delivery, DeliveryHost, HostFailure, InboxItem, JobState, QueuedJob
from .marks import Bookmark, StatusPin
from .media import MediaAttachment
from .poll import Poll, PollJob, PollJobKind, PollVote
from .quote import Quote, QuotePolicy, QuoteState
from .safety import (
    AccountDomainBlock,
    Block,
    DomainBlock,
    DomainSeverity,
    Filter,
    FilterAction,
    FilterKeyword,
    ModerationAction,
    Mute,
    Report,
    ReportCategory,
)
from .scheduled import ScheduledMedia, ScheduledStatus
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
    "AccountDomainBlock",
    "Block",
    "Bookmark",
    "CardFetch",
    "ChangeMarker",
    "Delivery",
    "DeliveryHost",
    "DomainBlock",
    "DomainSeverity",
    "Favourite",
    "FeedEntry",
    "Filter",
    "FilterAction",
    "FilterKeyword",
    "Follow",
    "FollowState",
    "HostFailure",
    "IdCounter",
    "ImportJob",
    "ImportKind",
    "ImportState",
    "ImportedItem",
    "InboxItem",
    "JobState",
    "Marker",
    "MediaAttachment",
    "Mention",
    "ModerationAction",
    "Mute",
    "Notification",
    "NotificationType",
    "OAuthApp",
    "Poll",
    "PollJob",
    "PollJobKind",
    "PollVote",
    "PreviewCard",
    "QueuedJob",
    "Quote",
    "QuotePolicy",
    "QuoteState",
    "Report",
    "ReportCategory",
    "ScheduledMedia",
    "ScheduledStatus",
    "Status",
    "StatusCard",
    "StatusEdit",
    "StatusPin",
    "StatusTag",
    "Tag",
    "Tombstone",
    "User",
    "Visibility",
    "WebSession",
]
