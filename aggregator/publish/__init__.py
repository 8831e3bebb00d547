"""Publishing from the store: feeds, site health, the archive export, and the feed server."""
