"""Images: checking and processing uploads and remote files, storing them, and the disk budget."""
