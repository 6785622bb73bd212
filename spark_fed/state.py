"""What the running app holds, under typed keys every area reads."""

from aiohttp import web

from .config import Config
from .db import Database
from .urls import Urls

CONFIG = web.AppKey("config", Config)
DB = web.AppKey("db", Database)
URLS = web.AppKey("urls", Urls)
