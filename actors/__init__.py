"""Actors: the documents of local users and the instance actor, their collections and profile pages."""
