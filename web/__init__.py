"""The web interface: server-rendered pages on the same services as the commands and the API."""
