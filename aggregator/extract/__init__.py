"""Extraction: an article from one page (selectors, structured data, crawler hints, generic
layer) and links from listings.
"""
