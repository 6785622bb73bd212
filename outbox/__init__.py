"""The outbox: every action a local user takes, written to the database and queued for delivery."""
