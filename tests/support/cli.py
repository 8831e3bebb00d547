"""The ``aggregator`` command line in a subprocess (the Twisted reactor runs once per
process), with the environment of the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.env import REPO

__all__ = ["DEFAULT_FEEDS", "run_cli"]

#: Feeds written by commands that do not name a folder land here, not in the checkout.
DEFAULT_FEEDS = Path(tempfile.mkdtemp(prefix="aggregator-test-feeds-"))


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``aggregator`` in a subprocess (the Twisted reactor runs once per process)."""
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS)}
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"aggregator {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
        )
    return result
