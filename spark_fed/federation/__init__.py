"""Talking to other servers: signed requests, remote actors and their keys, request authentication."""
