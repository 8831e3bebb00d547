"""Worker processes for the chain's pure steps (:func:`~aggregator.process.chain.prepare`:
extract, normalize, fingerprint), so that the crawl's one thread only fetches and writes.

:class:`WorkerPool` runs ``jobs`` workers. Each worker has a driver thread in this process
that hands it one page at a time and waits for the answer, so a page is never lost with
its worker: a worker that dies (killed, out of memory) or takes longer than ``timeout``
seconds on one page (it is killed) is replaced, and that page's future fails with
:class:`WorkerLost`; the other pages go on. Workers start from a fork server (never a fork
of a process running a reactor or threads) with the extraction modules loaded, ignore
SIGINT (the parent decides when to stop) and exit when their parent's end of the pipe
closes, so a killed parent leaves none behind.

Workers import aggregator from this process's ``sys.path`` (the egg Scrapyd activated, say)
and say which file they run: one running another copy is not used. Until some worker has
answered a page, nothing shows a page at fault, so a worker lost on it is not the page's
loss: the page goes to the next worker; three workers in a row that fail to start or die
before answering, and workers cannot run here: the pool says so in one line and prepares
the pages in its own threads (:attr:`WorkerPool.broken`), losing none.

A process shares one pool between its crawls (:func:`acquire_pool`, :func:`release_pool`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from aggregator.extract.limits import TooComplex
from aggregator.extract.model import ExtractionError
from aggregator.items import Article
from aggregator.process.chain import Page, prepare
from aggregator.sites.definition import SiteDefinition

__all__ = [
    "DEFAULT_TIMEOUT",
    "PageCrashed",
    "WorkerLost",
    "WorkerPool",
    "acquire_pool",
    "default_jobs",
    "release_pool",
]

#: Seconds one page may take in a worker before the worker is killed and replaced.
DEFAULT_TIMEOUT = 60.0
#: Seconds a new worker may take to start.
START_TIMEOUT = 60.0
#: Workers in a row that fail before answering a page, after which the pool stops trying.
MAX_FAILURES = 3
#: Modules the fork server loads once for every worker (slow to load): third-party only. The
#: fork server is a fresh interpreter that finds modules on its own path (before Python
#: 3.12.8 it ignores this process's ``sys.path``), e.g. an editable install or $PYTHONPATH
#: instead of the egg Scrapyd activated here: a copy of aggregator it loaded would be the
#: one its workers run.
PRELOAD = ["trafilatura", "numpy", "pydantic", "parsel"]

logger = logging.getLogger(__name__)

_Task = tuple[Page, SiteDefinition, "Future[Article]"]


class WorkerLost(Exception):
    """The worker died or hung on this page; it was replaced."""


class PageCrashed(Exception):
    """Extraction raised an unexpected error on this page (the worker lives on)."""


def default_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _work(conn: Connection) -> None:
    """A worker's loop: (site key, site or None, page) in, one answer out, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sites: dict[str, SiteDefinition] = {}
    conn.send(("ready", __file__))
    while True:
        try:
            key, site, page = conn.recv()
        except (EOFError, OSError):
            return
        if site is not None:
            sites[key] = site
        answer: tuple[str, Any]
        try:
            answer = ("ok", prepare(page, sites[key]))
        except TooComplex as exc:
            answer = ("too_complex", str(exc))
        except ExtractionError as exc:
            answer = ("extraction", str(exc))
        except Exception as exc:  # a broken page must never stop the worker
            answer = ("crash", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return


def _settle(future: Future[Article], page: Page, site: SiteDefinition) -> None:
    """Prepare ``page`` in this process, its outcome into ``future``."""
    try:
        future.set_result(prepare(page, site))
    except ExtractionError as exc:
        future.set_exception(exc)
    except Exception as exc:  # a broken page must never stop the pool
        future.set_exception(PageCrashed(f"{type(exc).__name__}: {exc}"))


class _Worker:
    """One worker process, as its driver thread sees it."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child,), daemon=True)
        self.process.start()
        child.close()  # EOF reaches the worker when this end closes, and back
        self.sites: set[str] = set()

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process.close()


class WorkerPool:
    """``jobs`` worker processes running :func:`prepare`."""

    def __init__(self, jobs: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        if jobs < 1:
            raise ValueError(f"a pool needs at least one worker, not {jobs}")
        self.jobs, self.timeout = jobs, timeout
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._keys: dict[int, str] = {}
        self._lock = threading.Lock()
        self.lost = 0  # workers replaced
        #: workers cannot run here: pages are prepared in the driver threads
        self.broken = False
        self.in_process = 0  # pages prepared in the driver threads
        self._answered = False  # some worker answered a page: workers run here
        self._failures = 0  # workers that failed in a row, since the last answer
        self._threads = [
            threading.Thread(target=self._drive, name=f"pool-driver-{n}", daemon=True)
            for n in range(jobs)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, page: Page, site: SiteDefinition) -> Future[Article]:
        """The prepared article, later: its exception is the page's
        :class:`~aggregator.extract.model.ExtractionError`, :class:`PageCrashed` or
        :class:`WorkerLost`."""
        future: Future[Article] = Future()
        self._tasks.put((page, site, future))
        return future

    def close(self) -> None:
        """Let the workers finish what they hold, then stop them."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()

    def _key(self, site: SiteDefinition) -> str:
        with self._lock:  # one key per definition object: sent once to each worker
            return self._keys.setdefault(id(site), f"{site.id}#{len(self._keys)}")

    def _drive(self) -> None:
        worker: _Worker | None = None
        try:
            while (task := self._tasks.get()) is not None:
                page, site, future = task
                if not future.set_running_or_notify_cancel():
                    continue
                while not future.done():  # a page no worker answered goes to the next one
                    if worker is not None and not worker.process.is_alive():
                        # died between pages (killed): the page goes to its replacement
                        worker.stop(kill=True)
                        worker = None
                        with self._lock:
                            self.lost += 1
                    while worker is None and not self.broken:
                        worker = self._start()
                    if worker is None:  # workers cannot run here: this thread does the work
                        with self._lock:
                            self.in_process += 1
                        _settle(future, page, site)
                    elif not self._run(worker, page, site, future):
                        worker.stop(kill=True)
                        worker = None
        finally:
            if worker is not None:
                worker.stop()

    def _start(self) -> _Worker | None:
        """A new worker, once it says it is ready and runs this very module; None when it
        did not (counted: :meth:`_failed`)."""
        try:
            worker = _Worker(self._context)
        except Exception as exc:  # the fork server itself could not start
            self._failed(f"could not start ({exc})")
            return None
        why = "died before it was ready"
        try:
            if not worker.conn.poll(START_TIMEOUT):
                why = f"was not ready after {START_TIMEOUT:g} s"
            else:
                status, where = worker.conn.recv()
                if status == "ready" and where == __file__:
                    return worker
                why = f"ran {where}, not {__file__}"
        except (EOFError, OSError):
            pass
        worker.stop(kill=True)
        self._failed(why)
        return None

    def _failed(self, why: str) -> None:
        """A worker failed before answering a page; :data:`MAX_FAILURES` in a row, and
        workers cannot run here (:attr:`broken`)."""
        with self._lock:
            self._failures += 1
            if self._failures < MAX_FAILURES or self.broken:
                return
            self.broken = True
        logger.error(
            "extraction workers cannot run here (%d in a row failed, the last one %s): "
            "extracting in this process",
            MAX_FAILURES,
            why,
        )

    def _lose(self, future: Future[Any], message: str) -> None:
        """The worker was lost on this page: the page's loss once workers have answered
        here, else not the page's doing (the page stays for the next worker)."""
        with self._lock:
            answered = self._answered
            if answered:
                self.lost += 1
        if answered:
            future.set_exception(WorkerLost(message))
        else:
            self._failed(f"was lost on its page ({message})")

    def _run(self, worker: _Worker, page: Page, site: SiteDefinition, future: Future[Any]) -> bool:
        """Hand one page to ``worker`` and settle ``future``; False when the worker is lost."""
        key = self._key(site)
        try:
            worker.conn.send((key, None if key in worker.sites else site, page))
            worker.sites.add(key)
            if not worker.conn.poll(self.timeout):
                self._lose(future, f"no answer after {self.timeout:g} s: killed")
                return False
            status, value = worker.conn.recv()
            with self._lock:
                self._answered, self._failures = True, 0
        except (EOFError, OSError):
            worker.process.join(1)
            code = worker.process.exitcode
            how = f"was killed by signal {-code}" if code is not None and code < 0 else "died"
            self._lose(future, f"the worker {how}")
            return False
        if status == "ok":
            future.set_result(value)
        elif status == "too_complex":
            future.set_exception(TooComplex(value))
        elif status == "extraction":
            future.set_exception(ExtractionError(value))
        else:
            future.set_exception(PageCrashed(value))
        return True


_shared: WorkerPool | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire_pool(jobs: int, timeout: float = DEFAULT_TIMEOUT) -> WorkerPool:
    """This process's pool (made by the first caller, with its ``jobs``)."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = WorkerPool(jobs, timeout)
        _users += 1
        return _shared


def release_pool(pool: WorkerPool) -> None:
    """One user less; the last one stops the workers."""
    global _shared, _users
    with _shared_lock:
        _users -= 1
        if _users > 0 or _shared is not pool:
            return
        _shared = None
    pool.close()
