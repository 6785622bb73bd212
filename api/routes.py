"""Every client API route, gathered for the app."""

from . import (
    accounts,
    edits,
    filters,
    instance,
    markers,
    marks,
    media,
    openapi,
    polls,
    quotes,
    reports,
    safety,
    scheduled,
    search,
    social,
    statuses,
    timelines,
)

# aiohttp matches in order: accounts.py registers /accounts/verify_credentials, /lookup and
# /relationships before /accounts/{id}.
routes = [
    *instance.routes,
    *accounts.routes,
    *safety.routes,
    *social.routes,
    *edits.routes,
    *statuses.routes,
    *marks.routes,
    *scheduled.routes,
    *polls.routes,
    *quotes.routes,
    *media.routes,
    *timelines.routes,
    *search.routes,
    *markers.routes,
    *filters.routes,
    *reports.routes,
    *openapi.routes,
]
