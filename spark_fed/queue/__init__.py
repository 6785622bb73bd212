"""Durable job queues in the database: leasing, retries with backoff, and the worker loop."""

from .jobs import GiveUp, RetryLater, claim, due_count
from .worker import Worker

__all__ = ["GiveUp", "RetryLater", "Worker", "claim", "due_count"]
