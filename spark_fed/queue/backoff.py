"""When to try a failed job again.

Mastodon's shape (docs/decisions.md): the first retries come within seconds and
minutes, so a peer that was down for a minute gets its deliveries soon after
it is back; later ones spread out to hours, about two days in all.
"""

import random
from datetime import timedelta


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number ATTEMPT (0 for the first failure)."""
    rng = rng or random
    base = attempt**4 + 15
    jitter = rng.uniform(0, 0.5 * attempt**4) + rng.uniform(0, 10) * (attempt + 1)
    return timedelta(seconds=base + jitter)


def schedule_total(attempts: int) -> timedelta:
    """The least time ATTEMPTS retries take (no jitter): how long a job keeps trying."""
    return sum((timedelta(seconds=n**4 + 15) for n in range(attempts)), timedelta())
