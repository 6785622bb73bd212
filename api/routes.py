"""Every client API route, gathered for the app."""

from . import accounts, instance, statuses, timelines

routes = [*instance.routes, *accounts.routes, *statuses.routes, *timelines.routes]
