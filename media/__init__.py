"""Serving media: uploads and the proxy that fetches remote files on first view."""
