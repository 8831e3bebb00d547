"""The site-health tests of tests/unit/publish/test_health.py that take ``store_target``, on
a PostgreSQL database (tests/support/backends.py)."""

from tests.support.backends import on_postgresql

globals().update(on_postgresql("tests.unit.publish.test_health"))
