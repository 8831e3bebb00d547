"""The search tests of tests/unit/store/test_search.py that take ``store_target``, on a
PostgreSQL database (tests/support/backends.py)."""

from tests.support.backends import on_postgresql

globals().update(on_postgresql("tests.unit.store.test_search"))
