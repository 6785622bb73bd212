"""What the running app holds, under typed keys every area reads."""

from aiohttp import web

from .config import Config
from .context import Context
from .db import Database
from .queue.hosts import HostHealth
from .queue.intake import InboxIntake
from .urls import Urls

CONFIG = web.AppKey("config", Config)
DB = web.AppKey("db", Database)
URLS = web.AppKey("urls", Urls)
CONTEXT = web.AppKey("context", Context)
INTAKE = web.AppKey("intake", InboxIntake)
HOST_HEALTH = web.AppKey("host_health", HostHealth)
