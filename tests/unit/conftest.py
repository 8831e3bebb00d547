"""Unit tests run in-process: a test that takes ``store_target`` gets a fresh SQLite file.
tests/integration runs the same tests on PostgreSQL (tests/support/backends.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store_target(tmp_path: Path) -> str:
    """A fresh SQLite store's ``--db``."""
    return str(tmp_path / "store.db")
