"""Crash safety: SIGKILL at any point, then ``crawl --resume``; a feed build killed
mid-write; two processes writing one store at once.

The reference is the session's uninterrupted crawl of the sample web (``crawled``): the
same server, so the same URLs and ids. "The store equals" compares every article's
content fields, its story (``duplicate_of``) and categories, its dedup keys, and the
store's integrity; not what depends on timing (fetch times, which of two URLs of one page
was fetched first, version numbers of merged stories).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from aggregator.publish.feeds import build_feeds
from aggregator.store import SQLiteStore
from tests.support.crawls import Crawl
from tests.support.env import REPO
from tests.support.feedcheck import check_feed_file, feed_files
from tests.support.storestate import article_count, store_state

#: Seeded: the kill points move with AGGREGATOR_CRASH_SEED, and a failure can be replayed.
SEED = int(os.environ.get("AGGREGATOR_CRASH_SEED", "9"))


def _crawl_command(crawled: Crawl, db: Path, *extra: str) -> list[str]:
    web = crawled.web
    return [sys.executable, "-m", "aggregator.app.cli", "crawl", *web.site_ids, "--db", str(db),
            "--sites-dir", str(web.sites_dir), "-q", *extra]  # fmt: skip


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "AGGREGATOR_SITES_DIRS": "",
        "AGGREGATOR_FEEDS_DIR": str(Path("/nonexistent")),
    }


def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_crawl(
    crawled: Crawl, tmp_path: Path
) -> None:
    """A crawl is killed (SIGKILL) when the store holds a random number of articles; the
    resumed crawl is killed again later, and so on: five kill points, each inside a
    running crawl. The last resume runs to the end: the store equals the reference."""
    total = len(store_state(crawled.db)["articles"])
    rng = random.Random(SEED)
    # one kill before anything is stored (while the spider starts), then four as the
    # store fills up, each in its own fifth of the crawl
    points = [0, *sorted(rng.randrange(i * total // 5, (i + 1) * total // 5) + 1 for i in range(4))]
    db = tmp_path / "killed.db"
    killed = []
    for n, point in enumerate(points):
        command = _crawl_command(crawled, db, *(["--resume"] if n else []))
        proc = subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 60
        if point == 0:
            time.sleep(rng.uniform(0.8, 1.5))  # Scrapy started, nothing stored yet
        else:
            while article_count(db) < point and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        assert proc.poll() is None, f"the crawl ended before kill point {point}: {proc.stderr}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        killed.append(article_count(db))
    assert killed == sorted(killed) and killed[-1] < total, killed
    result = subprocess.run(_crawl_command(crawled, db, "--resume"), cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert store_state(db) == store_state(crawled.db)
    # resuming did not fetch again what the killed crawls had stored
    with SQLiteStore(db) as store:
        last = store.last_crawls()
    assert sum(v["stats"]["inserted"] for v in last.values()) < total


def test_a_feed_build_killed_mid_write_leaves_every_feed_whole(
    crawled: Crawl, tmp_path: Path
) -> None:
    """The previous feeds are built; a second build (another base URL: every file changes)
    is killed while writing its k-th file. Each file is then wholly the old or wholly the
    new one, and the next build completes."""
    feeds = tmp_path / "feeds"
    with SQLiteStore(crawled.db) as store:
        build_feeds(store, feeds, base_url="https://old.example/feeds/")
        build_feeds(store, tmp_path / "new", base_url="https://new.example/feeds/")
    old = {p.relative_to(feeds): p.read_bytes() for p in feeds.rglob("*") if p.is_file()}
    new = {p.relative_to(tmp_path / "new"): p.read_bytes() for p in (tmp_path / "new").rglob("*") if p.is_file()}  # fmt: skip
    changed = [k for k in old if old[k] != new[k]]  # rewritten by the second build
    assert old.keys() == new.keys() and len(changed) > len(old) // 2
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from aggregator.publish.feeds import build_feeds
        from aggregator.store import SQLiteStore
        db, feeds, kill_at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
        real, calls = os.fsync, [0]
        def fsync(fd):  # the temp file's bytes are on disk: die before the rename
            calls[0] += 1
            real(fd)
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        os.fsync = fsync
        with SQLiteStore(db) as store:
            build_feeds(store, feeds, base_url="https://new.example/feeds/")
        """
    )
    for n, where in enumerate(("first", "middle", "last"), start=1):
        # killed writing the first file still to rewrite, one in the middle, the last one
        left = sum(1 for k, data in new.items() if (feeds / k).read_bytes() != data)
        kill_at = {"first": 1, "middle": max(1, left // 2), "last": left}[where]
        result = subprocess.run([sys.executable, "-c", script, str(crawled.db), str(feeds), str(kill_at)],
                                cwd=REPO, capture_output=True, timeout=120)  # fmt: skip
        assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
        files = {p.relative_to(feeds): p for p in feeds.rglob("*") if p.is_file()}
        visible = {k: p for k, p in files.items() if not p.name.startswith(".")}
        assert visible.keys() == old.keys()
        feed_set = set(feed_files(feeds))
        for key, path in visible.items():
            data = path.read_bytes()
            assert data in (old[key], new[key]), key
            if path in feed_set:
                check_feed_file(path)
        # each killed build left at most its one temporary file, hidden from readers
        assert len(files) - len(visible) <= n
    with SQLiteStore(crawled.db) as store:
        report = build_feeds(store, feeds, base_url="https://new.example/feeds/")
    assert {p.relative_to(feeds): p.read_bytes() for p in feeds.rglob("*") if p.is_file() and not p.name.startswith(".")} == new  # fmt: skip
    assert report.written  # the files the killed builds had not reached


def test_two_crawls_write_one_store_at_once(crawled: Crawl, tmp_path: Path) -> None:
    """``aggregator crawl`` (which takes the store's lock) and two ``scrapy crawl`` jobs
    (as Scrapyd runs them: no lock) write one fresh store at the same time, the three
    starting together on an empty file: none fails, nothing says "database is locked",
    and the store is the one a single crawl makes (stories across sites included)."""
    web = crawled.web
    db = tmp_path / "shared.db"
    first, *others = web.site_ids
    half = len(others) // 2
    commands = [
        [sys.executable, "-m", "aggregator.app.cli", "crawl", first, *others[:half], "--db", str(db),
         "--sites-dir", str(web.sites_dir), "-q"],
        *(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"site={site}",
             "-s", f"AGGREGATOR_DB={db}", "-s", f"AGGREGATOR_SITES_DIRS={web.sites_dir}",
             "-s", "LOG_LEVEL=WARNING"]
            for site in others[half:]
        ),
    ]  # fmt: skip
    procs = [
        subprocess.Popen(c, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert "database is locked" not in out + err and "Traceback" not in err, err[-3000:]
    assert store_state(db) == store_state(crawled.db)
    with SQLiteStore(db) as store:
        assert sorted(store.last_crawls()) == sorted(web.site_ids)


def test_writers_racing_on_a_fresh_store(tmp_path: Path) -> None:
    """Processes that open a store that does not exist yet and write it at once: the
    migrations run once, no write fails."""
    db = tmp_path / "fresh.db"
    script = textwrap.dedent(
        """
        import sys
        from datetime import UTC, datetime
        from aggregator.items import Article, article_id
        from aggregator.process.chain import Chain
        from aggregator.store import SQLiteStore
        db, who = sys.argv[1], sys.argv[2]
        with SQLiteStore(db) as store:
            chain = Chain(store)
            for i in range(30):
                url = f"http://127.0.0.1/{who}/{i}"
                body = f"Bài {i} của {who}: " + " ".join(f"từ{who}{i}x{k}" for k in range(60))
                a = Article(url=url, site=who, canonical_url=url, id=article_id(url), title=f"T {i}",
                            body_text=body, body_html=f"<p>{body}</p>", fetched_at=datetime.now(UTC))
                chain.process(a, None)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(db), f"w{n}"], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
    with SQLiteStore(db) as store:
        assert store.count() == 30 * 3
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
