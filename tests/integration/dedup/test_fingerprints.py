"""Fingerprints in another process: the stored dedup keys do not depend on the process."""

import subprocess
import sys

from aggregator.dedup.fingerprints import fingerprint
from tests.support.factory import STORY_TEXT as TEXT


def test_same_keys_in_another_process() -> None:
    """Stored keys must match keys computed by any later process (no salted hash())."""
    code = (
        f"from aggregator.dedup.fingerprints import fingerprint; print(fingerprint({TEXT!r}).bands)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "12345"},
    ).stdout  # fmt: skip
    assert out.strip() == str(fingerprint(TEXT).bands)
