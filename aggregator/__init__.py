"""Crawler and feed aggregator for Vietnamese provincial newspapers."""

__version__ = "0.1.0"
