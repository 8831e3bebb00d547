"""Where the tests find things, and what they do when something is missing.

``../shared`` (beside the repository) holds the real pages and the schemas of the formats
(``shared/schemas/atom.rng``). A test that needs it is skipped when it is absent, but fails
when ``$CI`` is set: CI must run every test, so a missing folder there is an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["REPO", "SHARED", "on_ci", "optional_shared_path", "shared_path", "unavailable"]

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def on_ci() -> bool:
    """Whether the suite runs on CI (``$CI`` set, as CI services set it)."""
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> NoReturn:
    """Skip the running test for a missing prerequisite; on CI, fail it instead."""
    if on_ci():
        pytest.fail(f"{reason}; CI must run this test", pytrace=False)
    pytest.skip(reason)


def _missing(path: Path) -> str:
    return f"{path} not found (the shared folder sits beside the repository: ../shared)"


def shared_path(*parts: str) -> Path:
    """``../shared/<parts>`` for a test that needs it: skipped without it, failed on CI."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        unavailable(_missing(path))
    return path


def optional_shared_path(*parts: str) -> Path | None:
    """``../shared/<parts>`` for a check that is one of several in a test (an Atom file is
    also checked without its schema): None without it, so the rest still runs; on CI a
    missing file fails the test all the same."""
    path = SHARED.joinpath(*parts)
    if path.exists():
        return path
    if on_ci():
        pytest.fail(f"{_missing(path)}; CI must run this check", pytrace=False)
    return None
