"""Archives: WARC capture of fetched pages, and re-extraction of archived pages through the
processing chain.
"""
