"""Every mistake a person can make, through the real command line (a subprocess): one
``aggregator: error:`` line, the documented exit status (0 ok, 1 failure, 2 usage,
3 partial), and never a traceback; the last test reads the stderr of the whole suite."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import DEFAULT_FEEDS, run_cli
from tests.support.crawls import Crawl
from tests.support.env import REPO, unavailable

#: stderr of every command this module ran: none may hold a traceback
STDERR: list[str] = []

NESTED = "a = " + "[" * 5000 + "]" * 5000 + "\n"
BROKEN = 'id = "hong"\nname = "Báo Hỏng"\nprovince = "Hà Nội"\nbase_url = "http://127.0.0.1:9/"\n'
BROKEN += "[links]\narticle = '(('\n"


def site(site_id: str, base_url: str) -> str:
    return (
        f'id = "{site_id}"\nname = "{site_id}"\nprovince = "Hà Nội"\nbase_url = "{base_url}"\n'
        '[sources]\nlistings = [""]\n[links]\narticle = "a[0-9]+[.]html$"\n'
    )


def cli(*args: str, code: int, says: str = "") -> subprocess.CompletedProcess[str]:
    """``aggregator ARGS``: exits ``code``, stderr mentions ``says``, no traceback."""
    result = run_cli(*args, check=False)
    STDERR.append(result.stderr)
    assert result.returncode == code, (args, result.stdout[-2000:], result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert says in result.stderr, result.stderr[-3000:]
    return result


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [
        line
        for line in result.stderr.splitlines()
        if "error" in line.lower() and "(definition skipped)" not in line
    ]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def world(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four sample newspapers' definitions plus a broken one, and a copy of the
    crawled store."""
    root = tmp_path_factory.mktemp("errors")
    sites = root / "sites"
    shutil.copytree(crawled.web.sites_dir, sites)
    (sites / "hong.toml").write_text(BROKEN, encoding="utf-8")
    shutil.copy(crawled.db, root / "a.db")
    return root


def _args(world: Path) -> tuple[str, ...]:
    return ("--db", str(world / "a.db"), "--sites-dir", str(world / "sites"))


# -- a broken definition among good ones: reported, skipped, exit 3 ------------------------


def test_one_broken_definition_among_four(world: Path, tmp_path: Path) -> None:
    db, feeds = tmp_path / "new.db", tmp_path / "feeds"
    sites = ("--sites-dir", str(world / "sites"))
    crawl = cli("crawl", "--all", "--db", str(db), *sites, "--feeds-dir", str(feeds), code=3,
                says="hong.toml: links.article: bad regex")  # fmt: skip
    for site_id in ("baden", "caonguyen", "songcau", "tamdao"):
        assert site_id in crawl.stdout
    assert "(definition skipped)" in crawl.stderr
    built = cli("feeds", "--db", str(db), *sites, "--feeds-dir", str(feeds), code=3,
                says="hong.toml")  # fmt: skip
    assert "feeds written" in built.stdout and (feeds / "all.atom").is_file()
    listed = cli("sites", "list", *sites, code=3, says="hong.toml")
    assert "tamdao" in listed.stdout
    cli("status", "--db", str(db), *sites, "--feeds-dir", str(feeds), code=3, says="hong.toml")
    # named among others: the others are crawled
    named = cli("crawl", "tamdao", "hong", "--db", str(db), *sites, "--feeds-dir", str(feeds),
                code=3, says="hong.toml")  # fmt: skip
    assert "tamdao" in named.stdout


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "sau.toml").write_text(NESTED, encoding="utf-8")
    (tmp_path / "tot.toml").write_text(site("tot", "http://127.0.0.1:9/"), encoding="utf-8")
    checked = run_cli("sites", "check", "--sites-dir", str(tmp_path), check=False)
    STDERR.append(checked.stderr)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr + checked.stdout
    assert (
        checked.stdout.strip()
        == f"{tmp_path / 'sau.toml'}: (file): invalid TOML: nested too deeply"
    )
    listed = cli("sites", "list", "--sites-dir", str(tmp_path), code=3, says="nested too deeply")
    assert "tot" in listed.stdout


# -- usage: exit 2 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["crawl", "nosuch"], "unknown site 'nosuch'"),
        (["status", "nosuch"], "unknown site 'nosuch'"),
        (["sites", "test", "nosuch"], "unknown site 'nosuch'"),
        (["export", "--site", "nosuch"], "--site nosuch: unknown site"),
        (["export", "--category", "nosuch"], "--category nosuch: unknown category"),
        (["export", "--since", "abc"], "--since 'abc'"),
        (["crawl", "tamdao", "--due", "--full"], "--due"),
        (["crawl", "tamdao", "--all"], "not both"),
        (["crawl", "tamdao", "--full", "--resume"], "--resume"),
        (["crawl", "tamdao", "--include-unverified"], "--include-unverified"),
        (["crawl", "tamdao", "--idle", "5"], "--idle goes with --redis"),
        (["feeds", "--limit", "0"], "--limit: 0: expected at least 1"),
        (["run", "--interval", "0"], "--interval"),
        (["serve", "--interval", "soon"], "--interval"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(world: Path, args: list[str], says: str) -> None:
    extra = () if args[0] in ("serve", "frobnicate") else _args(world)
    if args[0] == "sites":
        extra = ("--sites-dir", str(world / "sites"))
    cli(*args, *extra, code=2, says=says)


def test_db_in_a_missing_folder_is_not_created(world: Path, tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "a.db"
    sites = ("--sites-dir", str(world / "sites"))
    for command in (["crawl", "tamdao"], ["feeds"], ["export"], ["status"], ["run"]):
        result = cli(*command, "--db", str(db), *sites, code=2, says=f"no folder {db.parent}")
        one_error_line(result)
    assert not db.parent.exists()


def test_feeds_dir_that_is_a_file(world: Path, tmp_path: Path) -> None:
    path = tmp_path / "feeds.txt"
    path.write_text("not a folder")
    for command in ("feeds", "status"):
        cli(command, *_args(world), "--feeds-dir", str(path), code=2, says="is not a folder")
    # a file where the category folder goes
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "category").write_text("in the way")
    result = cli("feeds", *_args(world), "--feeds-dir", str(feeds), code=1,
                 says=f"cannot write in {feeds}")  # fmt: skip
    one_error_line(result)


def test_corrupt_store_is_one_line_exit_2(world: Path, tmp_path: Path) -> None:
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is no SQLite file, " * 100)
    sites = ("--sites-dir", str(world / "sites"))
    feeds = ("--feeds-dir", str(tmp_path / "f"))
    for command in (["export"], ["status", *feeds], ["feeds", *feeds], ["crawl", "tamdao"]):
        result = cli(*command, "--db", str(db), *sites, code=2, says="file is not a database")
        one_error_line(result)


def test_version() -> None:
    result = run_cli("--version")
    assert result.stdout.startswith("aggregator ")


# -- the network: one line per failed site, exit 1 -------------------------------------------


def test_dns_failure_and_refused_connection(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    # .invalid never resolves (RFC 2606): nothing leaves the machine; port 9 refuses
    (sites / "dns.toml").write_text(site("dns", "http://nosuch.invalid/"), encoding="utf-8")
    (sites / "refused.toml").write_text(site("refused", "http://127.0.0.1:9/"), encoding="utf-8")
    args = ("--db", str(tmp_path / "a.db"), "--sites-dir", str(sites), "-s", "RETRY_TIMES=0")
    result = cli("crawl", "dns", "refused", *args, code=1, says="crawl failed for dns, refused")
    assert "DNS lookup failed" in result.stderr and "Connection was refused" in result.stderr


# -- output -------------------------------------------------------------------------------------


def test_output_piped_into_head_is_silent(world: Path) -> None:
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS)}
    command = shlex.join([sys.executable, "-m", "aggregator.app.cli", "export", *_args(world)])
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -c 100 >/dev/null"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip
    STDERR.append(result.stderr)
    assert result.stderr == ""
    assert result.returncode == 141  # killed-by-SIGPIPE's status, as `head` pipelines expect


# -- file systems: read-only, full (a tmpfs in a mount namespace of the test's own) ----------


def in_small_fs(script: str, size: str = "4m") -> subprocess.CompletedProcess[str]:
    """Run a shell ``script`` with ``$FS`` a fresh tmpfs of ``size`` (``mount -o
    remount,ro $FS`` makes it read-only), in a mount namespace that ends with it."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        unavailable("a private tmpfs needs root and unshare")
    fs = Path(f"/tmp/aggregator-test-fs-{os.getpid()}")
    fs.mkdir(exist_ok=True)
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS),
           "FS": str(fs), "AGG": f"{shlex.quote(sys.executable)} -m aggregator.app.cli"}  # fmt: skip
    try:
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "bash", "-c",
             f"set -e; mount -t tmpfs -o size={size} tmpfs $FS; {script}"],
            capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
        )  # fmt: skip
    finally:
        fs.rmdir()
    STDERR.append(result.stderr)
    return result


def test_read_only_store_is_readable(world: Path) -> None:
    source = world / "a.db"
    with sqlite3.connect(source) as conn:  # a store in rollback-journal mode: reading it
        conn.execute("PRAGMA journal_mode=DELETE")  # must not switch it to WAL
    result = in_small_fs(
        f"cp {shlex.quote(str(source))} $FS/a.db; mount -o remount,ro $FS; "
        f"$AGG export --db $FS/a.db > $FS.out 2> $FS.err || echo exit=$? >> $FS.err; "
        "echo lines=$(wc -l < $FS.out); cat $FS.err >&2; "
        f"$AGG crawl tamdao --db $FS/a.db --sites-dir {shlex.quote(str(world / 'sites'))} "
        "|| echo crawl-exit=$?; rm -f $FS.out $FS.err",
        size="16m",
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = int(result.stdout.split("lines=")[1].split()[0])
    assert lines > 100, result.stdout + result.stderr
    assert "articles exported" in result.stderr and "exit=" not in result.stderr
    assert "crawl-exit=2" in result.stdout, result.stdout + result.stderr
    assert "read-only" in result.stderr.lower()
    with sqlite3.connect(source) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_read_only_feeds_folder(world: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    shutil.copy(world / "a.db", db)
    crawl = ["crawl", "tamdao", "--db", str(db), "--sites-dir", str(world / "sites")]
    result = in_small_fs(
        f"mount -o remount,ro $FS; $AGG feeds {shlex.join(_args(world))} --feeds-dir $FS/feeds "
        "|| echo feeds-exit=$?; "
        f"$AGG status {shlex.join(_args(world))} --feeds-dir $FS || echo status-exit=$?; "
        f"$AGG {shlex.join(crawl)} --feeds-dir $FS || echo crawl-exit=$?"
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for command in ("feeds", "status", "crawl"):
        assert f"{command}-exit=1" in result.stdout, result.stdout + result.stderr
    assert result.stderr.count("aggregator: error: cannot write in") == 3, result.stderr
    assert "read-only" in result.stderr
    assert "tamdao" in result.stdout  # the crawl's table: what it stored is shown first


def test_full_disk_during_a_crawl(crawled: Crawl) -> None:
    sites = shlex.quote(str(crawled.web.sites_dir))
    result = in_small_fs(
        f"$AGG crawl baden tamdao --db $FS/a.db --sites-dir {sites} --feeds-dir /nonexistent "
        "|| echo crawl-exit=$?",
        size="600k",
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "crawl-exit=1" in result.stdout, result.stdout + result.stderr
    full = [line for line in result.stderr.splitlines() if "disk is full" in line]
    assert 1 <= len(full) <= 2, result.stderr  # once per site, then the crawl stops


# -- the whole suite --------------------------------------------------------------------------


def test_no_traceback_in_the_whole_error_suite() -> None:
    assert len(STDERR) >= 30, "run with the rest of the module"
    assert not [err for err in STDERR if "Traceback" in err]
