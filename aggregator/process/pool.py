"""Worker processes for the chain's pure steps (:func:`~aggregator.process.chain.prepare`:
decode, extract, normalize, fingerprint), so that the crawl's one thread only fetches and
writes.

:class:`WorkerPool` runs ``jobs`` workers, driven by one thread of this process that
waits on all of them at once: it hands a worker a page while it holds fewer than :data:`DEPTH`,
as a compact tuple of the page's bytes, and settles each page's future with the worker's
answer. A page is never lost with its worker: a worker that dies (killed, out of memory)
or takes longer than ``timeout`` seconds on one page (it is killed) is replaced, that
page's future fails with :class:`WorkerLost`, the pages still queued go to the other
workers; the other pages go on. A worker handed ``max_pages`` pages gets no more and,
once it has answered them, is stopped and replaced (:attr:`WorkerPool.retired`): its
native memory (libxml2's, the allocator's fragments) grows slowly with the pages it
parses, and only a new process gives it back. Workers start from a fork server (never a fork
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

import functools
import gc
import logging
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection, wait
from typing import Any

from aggregator.extract.limits import PageLimits, TooComplex
from aggregator.extract.model import ExtractionError
from aggregator.items import Article
from aggregator.process.chain import Page, prepare
from aggregator.sites.definition import SiteDefinition

__all__ = [
    "DEFAULT_MAX_PAGES",
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
#: Pages a worker is handed before it is replaced (0: never). A worker starts from the fork
#: server in tens of milliseconds: nothing, over this many pages.
DEFAULT_MAX_PAGES = 2000
#: Seconds a new worker may take to start.
START_TIMEOUT = 60.0
#: Workers in a row that fail before answering a page, after which the pool stops trying.
MAX_FAILURES = 3
#: Pages handed to one worker at a time: the next one waits in the worker while it works,
#: so a worker never idles while this thread (which needs the GIL, busy with the crawl's
#: reactor) hands it a page. Sending never deadlocks: a thread of each worker reads its
#: pipe whatever the worker does (:func:`_read`), so this thread never blocks writing a
#: page (larger than a pipe's buffer) to a worker blocked writing an answer.
DEPTH = 2
#: Site definitions (with page limits) a worker keeps, the oldest forgotten first: a
#: process running crawl after crawl sends each crawl's own.
KEEP = 64
#: Modules the fork server loads once for every worker (slow to load), shared by the workers
#: until written. The fork server is a fresh interpreter that finds modules on its own path
#: (before Python 3.12.8 it ignores this process's ``sys.path``), e.g. an editable install or
#: $PYTHONPATH instead of the egg Scrapyd activated here: a copy of aggregator it loaded would
#: be the one its workers run, so aggregator's own modules (:data:`OWN`) are added only where
#: it finds this very copy (:func:`preload`).
PRELOAD = ["trafilatura", "numpy", "pydantic", "parsel"]
#: The worker's own modules: loaded in each worker they cost it ~20 MB of its own (the
#: imports write to the objects shared from the fork server); loaded once in the fork server
#: they are shared by every worker.
OWN = ["aggregator.process.pool"]

logger = logging.getLogger(__name__)

_Task = tuple[Page, SiteDefinition, "Future[Article]"]

#: What crosses the pipe: a page as a tuple of these fields (its limits go with its site,
#: once per worker), an article as a tuple of all its fields: no class to look up, no
#: field names, for each page.
_PAGE_FIELDS = tuple(f.name for f in fields(Page) if f.name != "limits")
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))


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


@functools.cache
def preload() -> list[str]:
    """The modules for the fork server: :data:`PRELOAD`, and :data:`OWN` where a fresh
    interpreter like it (this executable, flags, environment and directory) imports this
    copy of aggregator; asked once a process (a fork server too runs once a process)."""
    ask = "import importlib.util as u; print(u.find_spec('aggregator').origin)"
    # the fork server's command line: multiprocessing passes these flags on
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    try:
        found = subprocess.run(
            [sys.executable, *flags, "-c", ask], capture_output=True, text=True, timeout=60
        )
        same = os.path.samefile(found.stdout.strip(), str(sys.modules["aggregator"].__file__))
    except (OSError, subprocess.SubprocessError):
        same = False
    return [*PRELOAD, *OWN] if same else PRELOAD


def _read(conn: Connection, inbox: queue.SimpleQueue[Any]) -> None:
    """A worker's reader thread: every message into ``inbox`` as it comes, None at EOF. The
    pipe towards the worker is always read, so the pool's driver never blocks sending a
    page while the worker is blocked sending an answer."""
    while True:
        try:
            inbox.put(conn.recv())
        except (EOFError, OSError):
            inbox.put(None)
            return


def _work(conn: Connection) -> None:
    """A worker's loop: (key, (site, limits) or None, page fields) in, one answer out, until
    EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # what the fork server loaded is never collected: a collection would write to every
    # object's header and so copy the pages this worker shares with the fork server
    gc.freeze()
    known: dict[str, tuple[SiteDefinition, PageLimits]] = {}
    try:
        conn.send(("ready", __file__))
    except OSError:  # the pool stopped before this worker was ready
        return
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read, args=(conn, inbox), daemon=True).start()
    while True:
        message = inbox.get()
        if message is None:
            return
        key, given, values = message
        if given is not None:
            known[key] = given
            if len(known) > KEEP:  # as the pool forgets it for this worker
                del known[next(iter(known))]
        site, limits = known[key]
        answer: tuple[str, Any]
        try:
            page = Page(**dict(zip(_PAGE_FIELDS, values, strict=True)), limits=limits)
            article = prepare(page, site)
            answer = ("ok", tuple(getattr(article, name) for name in _ARTICLE_FIELDS))
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


def _wanted(future: Future[Article]) -> bool:
    """False when the page's future was cancelled; running: it is (handed on again)."""
    return future.running() or future.set_running_or_notify_cancel()


def _settle(future: Future[Article], page: Page, site: SiteDefinition) -> None:
    """Prepare ``page`` in this process, its outcome into ``future``."""
    try:
        future.set_result(prepare(page, site))
    except ExtractionError as exc:
        future.set_exception(exc)
    except Exception as exc:  # a broken page must never stop the pool
        future.set_exception(PageCrashed(f"{type(exc).__name__}: {exc}"))


class _Worker:
    """One worker process."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child,), daemon=True)
        self.process.start()
        child.close()  # EOF reaches the worker when this end closes, and back

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process.close()


@dataclass(eq=False)
class _Slot:
    """A worker as the driver sees it: ready or not, the pages it holds (in the order it
    works on them) and since when it works on the first."""

    worker: _Worker
    since: float  # when it started, then when it began its first page
    ready: bool = False
    held: deque[_Task] = field(default_factory=deque)
    handed: int = 0  # pages it was handed
    #: the keys of the definitions it has, in the order it got them (as it keeps them)
    keys: dict[str, None] = field(default_factory=dict)


class WorkerPool:
    """``jobs`` worker processes running :func:`prepare`, each replaced after
    ``max_pages`` pages (0: never)."""

    def __init__(
        self, jobs: int, timeout: float = DEFAULT_TIMEOUT, max_pages: int = DEFAULT_MAX_PAGES
    ) -> None:
        if jobs < 1:
            raise ValueError(f"a pool needs at least one worker, not {jobs}")
        if max_pages < 0:
            raise ValueError(f"max_pages must be 0 (never) or more, not {max_pages}")
        self.jobs, self.timeout, self.max_pages = jobs, timeout, max_pages
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(preload())
        self._tasks: deque[_Task] = deque()  # pages no worker holds yet, in order
        # a definition and its page limits (kept alive: their ids name them) -> the key
        # workers know them by
        self._keys: dict[tuple[int, int], tuple[str, SiteDefinition, PageLimits]] = {}
        self._made = 0  # keys made
        self._lock = threading.Lock()
        self._closing = False
        self._asleep = False  # the driver waits for workers only: a new page wakes it
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self.lost = 0  # workers replaced
        self.retired = 0  # workers replaced after max_pages pages
        #: workers cannot run here: pages are prepared in the driver thread
        self.broken = False
        self.in_process = 0  # pages prepared in the driver thread
        self._answered = False  # some worker answered a page: workers run here
        self._failures = 0  # workers that failed in a row, since the last answer
        self._next = 0  # the slot to try first: pages go round the workers
        self._thread = threading.Thread(target=self._drive, name="pool-driver", daemon=True)
        self._thread.start()

    def submit(self, page: Page, site: SiteDefinition) -> Future[Article]:
        """The prepared article, later: its exception is the page's
        :class:`~aggregator.extract.model.ExtractionError`, :class:`PageCrashed` or
        :class:`WorkerLost`."""
        future: Future[Article] = Future()
        with self._lock:
            self._tasks.append((page, site, future))
            wake, self._asleep = self._asleep, False
        if wake:
            os.write(self._wake_w, b"\0")
        return future

    def close(self) -> None:
        """Let the workers finish what they hold, then stop them."""
        with self._lock:
            self._closing = True
        os.write(self._wake_w, b"\0")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    # -- the driver thread -----------------------------------------------------------------

    def _drive(self) -> None:
        slots: list[_Slot] = []
        try:
            while True:
                self._dispatch(slots)
                with self._lock:
                    if self._closing and not self._tasks and not any(s.held for s in slots):
                        return
                    # a new page is to be woken for when it can be handed on at once
                    self._asleep = self.broken or self._room(slots)
                    if self._asleep and self._tasks:
                        continue  # one came since the pages were handed on
                waits: list[Any] = [s.worker.conn for s in slots]
                ready = wait([*waits, self._wake_r], self._until(slots))
                if self._wake_r in ready:
                    while True:
                        try:
                            if not os.read(self._wake_r, 4096):
                                break
                        except BlockingIOError:
                            break
                for slot in list(slots):
                    if slot.worker.conn in ready:
                        self._receive(slot, slots)
                self._expire(slots)
        finally:
            for slot in slots:
                slot.worker.stop()
            # the pages still held or queued (when this thread failed): never left waiting
            with self._lock:
                tasks = [t for s in slots for t in s.held] + list(self._tasks)
                self._tasks.clear()
            for _, _, future in tasks:
                if not future.done():
                    future.set_exception(WorkerLost("the pool stopped"))

    def _room(self, slots: list[_Slot]) -> bool:
        """A worker to start, or one ready to take a page."""
        return len(slots) < self.jobs or bool(self._open(slots))

    def _until(self, slots: list[_Slot]) -> float | None:
        """Seconds until the first worker is overdue (None: none can be)."""
        deadlines = [
            s.since + (self.timeout if s.ready else START_TIMEOUT)
            for s in slots
            if s.held or not s.ready
        ]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _dispatch(self, slots: list[_Slot]) -> None:
        """Start the workers missing, hand pages to those with room; where workers cannot
        run, prepare the pages here."""
        while True:
            with self._lock:
                if not self._tasks:
                    return
                if self.broken:
                    task = self._tasks.popleft()
                    self.in_process += 1
                else:
                    task = None
            if task is not None:
                if _wanted(task[2]):
                    _settle(task[2], task[0], task[1])
                continue
            while len(slots) < self.jobs and not self.broken:
                started = self._start()
                if started is not None:
                    slots.append(started)
            slot = self._free(slots)
            if slot is None:
                return
            with self._lock:
                task = self._tasks.popleft()
            if _wanted(task[2]) and not self._send(slot, task, slots):
                return  # the worker was gone: its pages are back in the queue

    def _open(self, slots: list[_Slot]) -> list[_Slot]:
        """The workers ready to take a page (holding fewer than :data:`DEPTH`). The first
        pages wait for every worker to be ready, so that each has its share."""
        if not self._answered and not all(s.ready for s in slots):
            return []
        return [s for s in slots if s.ready and len(s.held) < DEPTH and not self._spent(s)]

    def _spent(self, slot: _Slot) -> bool:
        """The worker was handed its ``max_pages``: it gets no more."""
        return 0 < self.max_pages <= slot.handed

    def _free(self, slots: list[_Slot]) -> _Slot | None:
        """The worker to take the next page: of those open, the one holding the fewest,
        in turn."""
        open_ = self._open(slots)
        if not open_:
            return None
        turn = {id(s): (len(s.held), (n - self._next) % len(slots)) for n, s in enumerate(slots)}
        best = min(open_, key=lambda s: turn[id(s)])
        self._next = (slots.index(best) + 1) % len(slots)
        return best

    def _send(self, slot: _Slot, task: _Task, slots: list[_Slot]) -> bool:
        """Hand ``task`` to the worker; False when the worker was gone (replaced)."""
        page, site, _ = task
        worker = slot.worker
        if not slot.held and not worker.process.is_alive():
            # died between pages (killed): the page goes to its replacement
            with self._lock:
                self._tasks.appendleft(task)
                self.lost += 1
            self._drop(slot, slots, kill=True)
            return False
        key, site, limits = self._key(site, page.limits)
        given = None if key in slot.keys else (site, limits)
        values = tuple(getattr(page, name) for name in _PAGE_FIELDS)
        if not slot.held:
            slot.since = time.monotonic()
        slot.held.append(task)
        try:
            worker.conn.send((key, given, values))
        except OSError:
            self._gone(slot, slots)
            return False
        except Exception as exc:  # not picklable: nothing was sent
            slot.held.pop()
            task[2].set_exception(PageCrashed(f"{type(exc).__name__}: {exc}"))
            return True
        slot.handed += 1
        if given is not None:
            slot.keys[key] = None
            if len(slot.keys) > KEEP:  # as the worker forgets it
                del slot.keys[next(iter(slot.keys))]
        return True

    def _key(
        self, site: SiteDefinition, limits: PageLimits
    ) -> tuple[str, SiteDefinition, PageLimits]:
        """One key per definition and limits, sent once to each worker."""
        ids = (id(site), id(limits))
        found = self._keys.get(ids)
        if found is None:
            self._made += 1
            found = self._keys[ids] = (f"{site.id}#{self._made}", site, limits)
            if len(self._keys) > KEEP:
                del self._keys[next(iter(self._keys))]
        return found

    def _receive(self, slot: _Slot, slots: list[_Slot]) -> None:
        """The worker's message: ready, or the answer for its first page."""
        try:
            message = slot.worker.conn.recv()
        except (EOFError, OSError):
            self._gone(slot, slots)
            return
        if not slot.ready:
            status, where = message
            if status == "ready" and where == __file__:
                slot.ready = True
                return
            self._drop(slot, slots, kill=True)
            self._failed(f"ran {where}, not {__file__}")
            return
        if not slot.held:  # nothing asked: not our worker's protocol
            return
        _, _, future = slot.held.popleft()
        slot.since = time.monotonic()
        spent = not slot.held and self._spent(slot)
        with self._lock:
            self._answered, self._failures = True, 0
            self.retired += spent  # counted before its last answer is seen
        status, value = message
        if status == "ok":
            future.set_result(Article(*value))
        elif status == "too_complex":
            future.set_exception(TooComplex(value))
        elif status == "extraction":
            future.set_exception(ExtractionError(value))
        else:
            future.set_exception(PageCrashed(value))
        if spent:  # answered all it was handed: replaced (when pages come) by a new process
            self._drop(slot, slots)

    def _gone(self, slot: _Slot, slots: list[_Slot]) -> None:
        """The worker's pipe broke: it died, on its first page if it held one."""
        if not slot.ready:
            self._drop(slot, slots, kill=True)
            self._failed("died before it was ready")
            return
        slot.worker.process.join(1)
        code = slot.worker.process.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else "died"
        self._lose(slot, slots, f"the worker {how}")

    def _expire(self, slots: list[_Slot]) -> None:
        """Kill the workers overdue: on their first page, or to say they are ready."""
        now = time.monotonic()
        for slot in list(slots):
            if slot.ready and slot.held and now - slot.since >= self.timeout:
                self._lose(slot, slots, f"no answer after {self.timeout:g} s: killed")
            elif not slot.ready and now - slot.since >= START_TIMEOUT:
                self._drop(slot, slots, kill=True)
                self._failed(f"was not ready after {START_TIMEOUT:g} s")

    def _lose(self, slot: _Slot, slots: list[_Slot], message: str) -> None:
        """The worker was lost on its first page: the page's loss once workers have
        answered here, else not the page's doing (the page goes to the next worker, as
        the pages behind it do)."""
        with self._lock:
            answered = self._answered
            if answered:
                self.lost += 1
        if answered and slot.held:
            slot.held.popleft()[2].set_exception(WorkerLost(message))
        self._drop(slot, slots, kill=True)
        if not answered:
            self._failed(f"was lost on its page ({message})")

    def _drop(self, slot: _Slot, slots: list[_Slot], *, kill: bool = False) -> None:
        """Stop the worker; the pages it holds go back to the front of the queue."""
        slots.remove(slot)
        with self._lock:
            self._tasks.extendleft(reversed(slot.held))
        slot.held.clear()
        slot.worker.stop(kill=kill)

    def _start(self) -> _Slot | None:
        """A new worker (ready once it says so and runs this very module); None when it
        could not start (counted: :meth:`_failed`)."""
        try:
            return _Slot(_Worker(self._context), time.monotonic())
        except Exception as exc:  # the fork server itself could not start
            self._failed(f"could not start ({exc})")
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


_shared: WorkerPool | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire_pool(
    jobs: int, timeout: float = DEFAULT_TIMEOUT, max_pages: int = DEFAULT_MAX_PAGES
) -> WorkerPool:
    """This process's pool (made by the first caller, with its arguments)."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = WorkerPool(jobs, timeout, max_pages)
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
