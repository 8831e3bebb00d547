"""The store-reading unit tests, collected once more in tests/integration on PostgreSQL.

Unit tests that take the ``store_target`` fixture (a store's ``--db``), directly or
through another fixture, run on a fresh SQLite file (tests/unit/conftest.py). The same
tests must hold on PostgreSQL, which needs a server: an integration module collects them
again there, without a copy of their code::

    from tests.support.backends import on_postgresql

    globals().update(on_postgresql("tests.unit.publish.test_feeds"))

Only the tests that use ``store_target`` are collected there (see
``pytest_pycollect_makeitem`` in tests/conftest.py); each runs on a fresh database of
the session's PostgreSQL server, with ``[postgresql]`` in its id.
"""

from __future__ import annotations

import importlib

import pytest

__all__ = ["ON_POSTGRESQL", "on_postgresql", "store_tests_only"]

#: the name of the module attribute that marks a module made by ``on_postgresql``
ON_POSTGRESQL = "__on_postgresql__"


def _postgresql_target(pg_url: str) -> str:
    """A fresh PostgreSQL database's URL, as ``store_target``."""
    return pg_url


def on_postgresql(module_name: str) -> dict[str, object]:
    """The names of the unit test module ``module_name`` (its tests, fixtures and helpers)
    with ``store_target`` a PostgreSQL database: for an integration module's globals."""
    module = importlib.import_module(module_name)
    names = {k: v for k, v in vars(module).items() if not k.startswith("__")}
    names["store_target"] = pytest.fixture(
        _postgresql_target, params=["postgresql"], name="store_target"
    )
    names[ON_POSTGRESQL] = module_name
    return names


def store_tests_only(items: object) -> object:
    """Of what pytest collected for one name of such a module, the tests that use the
    store (the others run in the unit module only)."""
    if items is None:
        return None
    found = items if isinstance(items, list) else [items]
    return [i for i in found if isinstance(i, pytest.Function) and "store_target" in i.fixturenames]
