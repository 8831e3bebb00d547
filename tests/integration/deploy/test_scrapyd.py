"""Scrapyd: deploy with ``scrapyd-deploy`` to a real Scrapyd, schedule a sample newspaper,
read its articles back from the store.

Scrapyd runs on 127.0.0.1 on a free port with its own folders in ``tmp_path``. The project
is deployed from a copy of the repository, because ``scrapyd-deploy`` writes ``setup.py``,
``build/`` and ``*.egg-info`` into the project folder.

Scrapyd appends a deployed egg to the END of ``sys.path``: a copy of ``aggregator`` found
earlier (the repository on ``PYTHONPATH``, a legacy editable install) would shadow it and
the test would prove nothing about the egg. Scrapyd's ``runner`` option therefore names a
small wrapper of ``scrapyd.runner`` that hides the repository and editable installs first,
as on a Scrapyd server that has the project's dependencies but not the project, and records
where ``aggregator`` was imported from; the test checks that this is the deployed egg.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from aggregator.store import SQLiteStore
from sampleweb.evaluate import evaluate
from sampleweb.groundtruth import load_ground_truth
from tests.support.crawls import SampleWebProcess
from tests.support.env import REPO
from tests.support.sampletruth import urls_at

pytest.importorskip(
    "scrapyd", reason="scrapyd is not installed: pip install -e '.[test]' installs it"
)

PROJECT = "aggregator"
VERSION = "r1"
SITE = "baden"  # soft 404, dead link, old-scheme aliases: the hardest sample listing
START_TIMEOUT = 30.0
JOB_TIMEOUT = 120.0
#: package data the spider needs at run time (categories, provinces, bundled and sample
#: definitions)
DATA_FILES = (
    "aggregator/sites/categories.toml",
    "aggregator/sites/provinces.toml",
    "aggregator/sites/bundled/tayninh.toml",
    f"sampleweb/groundtruth/{SITE}.json",
    f"sampleweb/sites/{SITE}.toml",
)
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "*_cache", "__pycache__", ".hypothesis", "build", "dist", "*.egg-info",
    "*.db", "*.db-wal", "*.db-shm", ".demo", "feeds",
)  # fmt: skip

RUNNER = '''\
"""scrapyd.runner, with an installed (editable) aggregator hidden: the job imports the egg."""
import atexit
import os
import sys
from pathlib import Path

repo = Path(os.environ["AGGREGATOR_TEST_REPO"]).resolve()
sys.meta_path[:] = [
    f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")
]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != repo]


@atexit.register
def _imported_from() -> None:
    module = sys.modules.get("aggregator")
    where = getattr(module, "__file__", None) or "(not imported)"
    Path(os.environ["AGGREGATOR_TEST_IMPORTED_FROM"]).write_text(where, encoding="utf-8")


from scrapyd.runner import main  # noqa: E402

if __name__ == "__main__":  # as in scrapyd.runner: worker processes import this module
    main()
'''

CONFIG = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {folder}/eggs
logs_dir = {folder}/logs
dbs_dir = {folder}/dbs
items_dir =
jobs_dir =
max_proc = 2
poll_interval = 0.2
runner = egg_runner
"""


@dataclass
class Scrapyd:
    url: str
    folder: Path
    log: Path
    imported_from: Path

    def get(self, endpoint: str, **params: str) -> Any:
        query = f"?{urlencode(params)}" if params else ""
        with urlopen(f"{self.url}{endpoint}{query}", timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> Any:
        data = urlencode(fields).encode()
        with urlopen(f"{self.url}{endpoint}", data=data, timeout=30) as response:
            return json.load(response)

    def job_log(self, job: str, spider: str = "news") -> str:
        path = self.folder / "logs" / PROJECT / spider / f"{job}.log"
        return path.read_text(encoding="utf-8") if path.exists() else f"(no job log at {path})"

    def tail(self, text: str | None = None, n: int = 6000) -> str:
        if text is None:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        return text[-n:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop Scrapyd, then whatever it started (it runs in a process group of its own)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _start(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Scrapyd]:
    port = _free_port()
    (folder / "scrapyd.conf").write_text(CONFIG.format(port=port, folder=folder))
    server = Scrapyd(
        f"http://127.0.0.1:{port}/", folder, folder / "scrapyd.log", folder / "imported-from"
    )
    with server.log.open("ab") as log:
        # Scrapyd reads ./scrapyd.conf; the job runner starts in this folder too.
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile", str(folder / "scrapyd.pid")],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if server.get("daemonstatus.json").get("status") == "ok":
                return proc, server
        except (URLError, ConnectionError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"Scrapyd did not come up on port {port}:\n{server.tail()}")


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    """A real Scrapyd on 127.0.0.1 (a free port), stopped at the end."""
    folder = tmp_path_factory.mktemp("scrapyd")
    (folder / "egg_runner.py").write_text(RUNNER, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGGREGATOR_", "SCRAPY_", "SCRAPYD_"))
    }
    env["AGGREGATOR_TEST_REPO"] = str(REPO)
    env["AGGREGATOR_TEST_IMPORTED_FROM"] = str(folder / "imported-from")
    for attempt in range(3):  # the free port can be taken before Scrapyd binds it
        try:
            proc, server = _start(folder, env)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def deployed(scrapyd: Scrapyd, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``scrapyd-deploy`` from a copy of the repository; the path of the stored egg."""
    project = tmp_path_factory.mktemp("deploy") / "project"
    shutil.copytree(REPO, project, ignore=COPY_IGNORE)
    with (project / "scrapy.cfg").open("a", encoding="utf-8") as cfg:
        cfg.write(f"\n[deploy:test]\nurl = {scrapyd.url}\n")
    result = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "test", "--version", VERSION],
        cwd=project,
        env={k: v for k, v in os.environ.items() if not k.startswith("SCRAPY")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"scrapyd-deploy failed:\n{result.stdout}\n{result.stderr}"
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    hint = (
        "\nthe egg has no [scrapy] settings entry point: pyproject.toml needs "
        '[project.entry-points.scrapy] settings = "aggregator.settings"'
        if "module_name" in answer.get("message", "")
        else ""
    )
    assert answer["status"] == "ok", f"{answer}{hint}"
    assert answer["project"] == PROJECT
    assert answer["spiders"] >= 1, answer
    egg = scrapyd.folder / "eggs" / PROJECT / f"{VERSION}.egg"
    assert egg.is_file(), sorted(str(p) for p in scrapyd.folder.rglob("*.egg"))
    return egg


def test_deployed_egg_has_package_data_and_settings(deployed: Path, scrapyd: Scrapyd) -> None:
    with zipfile.ZipFile(deployed) as egg:
        names = set(egg.namelist())
        entry_points = egg.read("EGG-INFO/entry_points.txt").decode()
    assert not [f for f in DATA_FILES if f not in names], sorted(names)
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
    # Scrapyd's runner finds the settings module through this entry point
    assert "[scrapy]" in entry_points, entry_points
    assert "settings = aggregator.settings" in entry_points, entry_points
    assert scrapyd.get("listversions.json", project=PROJECT)["versions"] == [VERSION]
    spiders = scrapyd.get("listspiders.json", project=PROJECT)
    assert spiders.get("spiders") == ["news"], f"{spiders}\n{scrapyd.tail()}"


def test_scheduled_crawl_stores_the_sites_articles(
    deployed: Path, scrapyd: Scrapyd, sample_web: SampleWebProcess, tmp_path: Path
) -> None:
    db = tmp_path / "scrapyd.db"
    started = time.monotonic()
    answer = scrapyd.post(
        "schedule.json",
        [
            ("project", PROJECT),
            ("spider", "news"),
            ("site", SITE),  # a spider argument, like -a site=baden
            ("setting", f"AGGREGATOR_DB={db}"),
            ("setting", f"AGGREGATOR_SITES_DIRS={sample_web.sites_dir}"),
        ],
    )
    assert answer["status"] == "ok", answer
    job = answer["jobid"]

    jobs: dict[str, Any] = {}
    while time.monotonic() - started < JOB_TIMEOUT:
        jobs = scrapyd.get("listjobs.json", project=PROJECT)
        if any(j["id"] == job for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail(
            f"job {job} not finished after {JOB_TIMEOUT:.0f} s: {jobs}\n"
            f"{scrapyd.tail(scrapyd.job_log(job))}\n{scrapyd.tail()}"
        )
    log = scrapyd.job_log(job)
    print(f"scrapyd job {job} finished in {time.monotonic() - started:.1f} s")
    assert "'finish_reason': 'finished'" in log, scrapyd.tail(log)
    assert "Traceback" not in log, scrapyd.tail(log)
    # the worker processes extracted the pages, running the egg's code as the job does
    # (a worker running another copy is refused, and pages are then extracted in-process)
    assert "extracting in this process" not in log, scrapyd.tail(log)
    assert "aggregator/pool/in_process" not in log, scrapyd.tail(log)
    assert "extraction lost" not in log, scrapyd.tail(log)

    imported_from = scrapyd.imported_from.read_text(encoding="utf-8")
    assert imported_from.startswith(str(deployed)), (
        f"the job imported aggregator from {imported_from}, not from the deployed egg"
    )

    assert db.exists(), f"no store at {db}\n{scrapyd.tail(log)}"
    with SQLiteStore(db) as store:
        stored = list(store.articles())
    assert {a.site for a in stored} == {SITE}
    truth = load_ground_truth(SITE)
    ev = evaluate(truth, stored, urls_at(sample_web.url))
    print(ev.summary())
    assert ev.expected == len(truth) >= 40
    assert ev.missing == [], scrapyd.tail(log)
    assert ev.extra == [], "non-article pages were stored"
    assert ev.found == ev.expected
    for name in ("title", "published", "category"):
        assert ev.share(name) == 1.0, ev.mismatches.get(name, [])[:5]
