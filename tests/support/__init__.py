"""What the tests share and that is not a test (tests/unit and tests/integration import it;
test modules never import each other).

- ``env``: the repository, ``../shared`` (``shared_path``: skip without it, fail on CI)
- ``factory``: ``make_article`` and ``with_dedup_keys``; ``feedsample``: the feed tests' set
- ``cli``, ``crawls``: ``aggregator`` in a subprocess, what the session fixtures hand out
- ``pgserver``, ``redisserver``, ``serveproc``: servers on 127.0.0.1 for integration tests
- ``backends``: store-reading unit tests collected again on PostgreSQL
- ``feedcheck``, ``exportcheck``, ``warccheck``, ``storestate``, ``sitefixtures``: checkers
  and fixtures' building blocks
"""
