"""The processing chain every article goes through, whoever fetched it: normalize,
validate, deduplicate, store (one write transaction). Scrapy-free."""
