"""Spark: a self-hostable microblogging server that federates over ActivityPub."""

__version__ = "0.1.0"
