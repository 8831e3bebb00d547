"""Pure normalization: Vietnamese text, dates, URLs, byline/clutter/source-tag rules, and what
is safe to show.
"""
