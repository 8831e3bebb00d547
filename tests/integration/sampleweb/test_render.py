"""The sample web's rendering is deterministic, within this process and in another one with
another hash seed and local time zone."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from sampleweb import Page, render_web
from sampleweb.render import load_all_ground_truth
from tests.support.env import REPO

ORIGIN = "http://127.0.0.1:8000/"
GT = load_all_ground_truth()


@pytest.fixture(scope="module")
def pages() -> dict[str, Page]:
    return render_web(ORIGIN, GT)


_DIGESTS = (
    "{path: hashlib.sha256(repr((p.status, p.content_type, p.headers, p.any_query)).encode()"
    " + p.body).hexdigest() for path, p in pages.items()}"
)


def test_rendering_is_deterministic(pages: dict[str, Page]) -> None:
    digests = eval(_DIGESTS, {"hashlib": hashlib, "pages": pages})
    assert digests == eval(_DIGESTS, {"hashlib": hashlib, "pages": render_web(ORIGIN, GT)})
    # another process with another hash seed and local time zone: the same bytes
    code = (
        "import hashlib, json; from sampleweb import render_web; "
        f"pages = render_web({ORIGIN!r}); print(json.dumps({_DIGESTS}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "America/Los_Angeles"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == digests
