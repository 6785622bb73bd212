"""Every client API route, gathered for the app."""

from . import (
    accounts,
    filters,
    instance,
    markers,
    media,
    openapi,
    quotes,
    reports,
    safety,
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
    *statuses.routes,
    *quotes.routes,
    *media.routes,
    *timelines.routes,
    *search.routes,
    *markers.routes,
    *filters.routes,
    *reports.routes,
    *openapi.routes,
]
