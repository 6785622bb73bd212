"""The Mastodon client API: the same services as the commands, in the JSON Mastodon apps expect."""
