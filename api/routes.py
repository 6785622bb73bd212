"""Every client API route, gathered for the app."""

from . import accounts, instance, markers, media, openapi, search, social, statuses, timelines

# aiohttp matches in order: accounts.py registers /accounts/verify_credentials, /lookup and
# /relationships before /accounts/{id}.
routes = [
    *instance.routes,
    *accounts.routes,
    *social.routes,
    *statuses.routes,
    *media.routes,
    *timelines.routes,
    *search.routes,
    *markers.routes,
    *openapi.routes,
]
