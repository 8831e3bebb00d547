"""Deduplication: fingerprints of article text and the story an article belongs to."""
