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

:class:`WritingPool` (a crawl's, a re-extraction's) runs the rest of the chain in the
workers too: each worker takes a chunk of consecutive pages, prepares it, and deduplicates
and writes it in one transaction over its own store connection when its turn comes (the
chunk before committed); only a small answer per page comes back.
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
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection, wait
from typing import Any

from aggregator.extract.limits import PageLimits, TooComplex
from aggregator.extract.model import ExtractionError
from aggregator.items import Article
from aggregator.process.chain import (
    Chain,
    Page,
    Rejected,
    SeenURLs,
    marks,
    prepare,
    validate,
)
from aggregator.process.writer import WriterStore
from aggregator.sites.definition import SiteDefinition
from aggregator.store import SQLiteStore, StoreUnavailable

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
DEFAULT_MAX_PAGES = 1000
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


#: Allocations between two collections of a worker's young objects (Python's default: 700):
#: a page's extraction allocates tens of thousands of objects, few of them in cycles.
YOUNG_THRESHOLD = 10_000


def _begin_worker() -> None:
    """What every worker does first: leave SIGINT to the parent; never collect what the
    fork server loaded (a collection would write to every object's header, and so copy the
    pages the worker shares with the fork server, and walk them each time), and collect
    young objects less often."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _work(conn: Connection) -> None:
    """A worker's loop: (key, (site, limits) or None, page fields) in, one answer out, until
    EOF."""
    _begin_worker()
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


def _future(task: Any) -> Future[Any]:
    """The future a page (or chunk) settles."""
    return task.future if isinstance(task, _Chunk) else task[2]


def _pages(task: Any) -> int:
    return len(task.items) if isinstance(task, _Chunk) else 1


def _wanted(future: Future[Any]) -> bool:
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

    #: a writing worker's progress (:class:`WritingPool`)
    progress: Any = None

    def __init__(self, context: Any, target: Callable[..., None] | None = None, *args: Any) -> None:
        self.conn, child = context.Pipe()
        target = target or _work  # looked up now: tests replace it
        self.process = context.Process(target=target, args=(child, *args), daemon=True)
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
    held: deque[Any] = field(default_factory=deque)  # _Task (or _Chunk: WritingPool)
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
        self._tasks: deque[Any] = deque()  # pages (chunks) no worker holds yet, in order
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
            # started now, not with the first page: the fork server loads the extraction
            # modules (~1 s) while the crawl fetches its first listing pages
            self._fill(slots)
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
                    if slot in slots and slot.worker.conn in ready:  # not dropped meanwhile
                        self._receive(slot, slots)
                self._expire(slots)
        finally:
            for slot in slots:
                slot.worker.stop()
            # the pages still held or queued (when this thread failed): never left waiting
            with self._lock:
                tasks = [t for s in slots for t in s.held] + list(self._tasks)
                self._tasks.clear()
            for task in tasks:
                future = _future(task)
                if not future.done():
                    future.set_exception(WorkerLost("the pool stopped"))

    def _room(self, slots: list[_Slot]) -> bool:
        """A worker to start, or one ready to take a page."""
        return len(slots) < self.jobs or bool(self._open(slots))

    def _until(self, slots: list[_Slot]) -> float | None:
        """Seconds until the first worker is overdue (None: none can be)."""
        deadlines = [s.since + START_TIMEOUT if not s.ready else self._due(s) for s in slots]
        due = [d for d in deadlines if d is not None]
        return max(0.0, min(due) - time.monotonic()) if due else None

    def _due(self, slot: _Slot) -> float | None:
        """When the ready worker is overdue on the page it works on (None: it works on
        none)."""
        return slot.since + self.timeout if slot.held else None

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
                self._in_thread(task)
                continue
            self._fill(slots)
            slot = self._free(slots)
            if slot is None:
                return
            with self._lock:
                task = self._tasks.popleft()
            if _wanted(_future(task)) and not self._send(slot, task, slots):
                return  # the worker was gone: its pages are back in the queue

    def _fill(self, slots: list[_Slot]) -> None:
        """Start the workers missing."""
        while len(slots) < self.jobs and not self.broken:
            started = self._start()
            if started is not None:
                slots.append(started)

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

    def _send(self, slot: _Slot, task: Any, slots: list[_Slot]) -> bool:
        """Hand ``task`` to the worker; False when the worker was gone (replaced)."""
        worker = slot.worker
        if not slot.held and not worker.process.is_alive():
            # died between pages (killed): the page goes to its replacement
            with self._lock:
                self._tasks.appendleft(task)
                self.lost += 1
            self._drop(slot, slots, kill=True)
            return False
        keys = dict(slot.keys)  # the definitions it will have
        message = self._message(task, keys)
        if not slot.held:
            slot.since = time.monotonic()
        slot.held.append(task)
        try:
            worker.conn.send(message)
        except OSError:
            self._gone(slot, slots)
            return False
        except Exception as exc:  # not picklable: nothing was sent
            slot.held.pop()
            _future(task).set_exception(PageCrashed(f"{type(exc).__name__}: {exc}"))
            return True
        slot.handed += _pages(task)
        slot.keys = keys
        return True

    def _message(self, task: _Task, keys: dict[str, None]) -> Any:
        """What the worker is sent for ``task``; ``keys``: the definitions it has, updated
        with those the message gives it."""
        page, site, _ = task
        return (*self._give(site, page.limits, keys), tuple(getattr(page, n) for n in _PAGE_FIELDS))

    def _give(
        self, site: SiteDefinition, limits: PageLimits, keys: dict[str, None]
    ) -> tuple[str, tuple[SiteDefinition, PageLimits] | None]:
        """The key of the definition, and the definition when the worker lacks it (then
        counted in ``keys``, forgotten the oldest first as the worker forgets it)."""
        key, site, limits = self._key(site, limits)
        if key in keys:
            return key, None
        keys[key] = None
        if len(keys) > KEEP:
            del keys[next(iter(keys))]
        return key, (site, limits)

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
        self._answer(slot, slots, message)

    def _answer(self, slot: _Slot, slots: list[_Slot], message: Any) -> None:
        """The worker's answer for its first page."""
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
            due = self._due(slot)
            if slot.ready and due is not None and now >= due:
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
            self._fault(slot, message)
        self._drop(slot, slots, kill=True)
        if not answered:
            self._failed(f"was lost on its page ({message})")

    def _fault(self, slot: _Slot, message: str) -> None:
        """The worker was lost on the page it worked on: that page's loss."""
        _future(slot.held.popleft()).set_exception(WorkerLost(message))

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
            return _Slot(self._worker(), time.monotonic())
        except Exception as exc:  # the fork server itself could not start
            self._failed(f"could not start ({exc})")
            return None

    def _worker(self) -> _Worker:
        return _Worker(self._context)

    def _in_thread(self, task: _Task) -> None:
        """Where workers cannot run: the page prepared in the driver thread."""
        page, site, future = task
        if _wanted(future):
            _settle(future, page, site)

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


# -- the writing mode: workers that also deduplicate and write -----------------------------

#: A page's outcome in the writing mode, as small as it can be: ``(store result, duplicate
#: kind or None, marks)`` for a stored article ("inserted", "updated", "unchanged"), else
#: ``(status, detail, marks)``: "same_url" (the canonical URL), "rejected" (why), "error"
#: (the store's error on that article alone), or, with no article and so no marks (None),
#: "too_complex", "extraction", "crash", "lost" (a message). ``marks``: the stat keys
#: (under ``aggregator/``) a crawl counts for the article
#: (:func:`~aggregator.process.chain.marks`, and ``errors/<reason>`` or ``duplicates/url``).
Answer = tuple[str, str | None, tuple[str, ...] | None]

#: The progress a writing worker shows in its shared array (second cell; the first: when
#: it began its page): the page of its chunk it prepares, or one of these.
_IDLE, _WRITING = -1.0, -2.0
#: Pages of a chunk written again after its worker died writing, at most: a chunk whose
#: write kills its worker again is lost.
MAX_WRITES = 2
#: KiB of page cache of a writing worker's SQLite connection: its lookups are index seeks
#: the OS caches as well; each worker's connection costs its process this much.
WORKER_CACHE_KIB = 2048


class NotWritten(Exception):
    """Workers cannot run here (:attr:`WorkerPool.broken`): the chunk, and every chunk
    after it, is the caller's to prepare and write, in order."""


@dataclass(eq=False)
class _Chunk:
    """Consecutive pages, prepared by one worker and written by it in one transaction,
    after the chunk before it."""

    number: int
    #: (place in the chunk, page, site, run) of the pages still to prepare
    items: list[tuple[int, Page, SiteDefinition, str]]
    future: Future[list[Answer]]
    size: int
    #: answers settled in this process (pages lost with a worker), by place
    answers: dict[int, Answer] = field(default_factory=dict)
    #: each item's canonical URL once prepared (None: not an article)
    urls: list[str | None] | None = None
    #: places of the pages whose URL came before in their run (decided at the first turn)
    skip: set[int] | None = None
    writes: int = 0  # turns it was given


def _ready_article(
    values: tuple[Any, ...], site: SiteDefinition, limits: PageLimits
) -> tuple[Article, tuple[str, ...]] | Answer:
    """The prepared, valid article of a page and its marks, or its answer when it is none."""
    try:
        page = Page(**dict(zip(_PAGE_FIELDS, values, strict=True)), limits=limits)
        article = prepare(page, site)
    except TooComplex as exc:
        return ("too_complex", str(exc), None)
    except ExtractionError as exc:
        return ("extraction", str(exc), None)
    except Exception as exc:  # a broken page must never stop the worker
        return ("crash", f"{type(exc).__name__}: {exc}", None)
    try:
        validate(article)
    except Rejected as exc:
        return ("rejected", str(exc), (*marks(article, valid=False), f"errors/{exc.reason}"))
    return article, marks(article, valid=True)


def _write_chunk(
    chain: Chain, ready: list[tuple[Any, SiteDefinition]], skip: set[int]
) -> list[Answer]:
    """Write a prepared chunk's articles (but those at ``skip``) in one transaction."""
    batch = [(a[0], site) for i, (a, site) in enumerate(ready)
             if isinstance(a[0], Article) and i not in skip]  # fmt: skip
    results = iter(chain.store_batch(batch) if batch else [])
    answers: list[Answer] = []
    for i, (done, _) in enumerate(ready):
        if not isinstance(done[0], Article):
            answers.append(done)
            continue
        article, found = done
        if i in skip:
            answers.append(("same_url", article.canonical_url, (*found, "duplicates/url")))
        elif isinstance(result := next(results), Exception):
            answers.append(("error", f"{type(result).__name__}: {result}", found))
        else:
            answers.append((result, article.story.kind if article.story else None, found))
    return answers


def _write_work(conn: Connection, store: WriterStore, progress: Any) -> None:
    """A writing worker's loop: ``("chunk", n, pages)`` in, its pages prepared,
    ``("prepared", n, canonical URLs)`` out; ``("turn", n, places to skip)`` in, the chunk
    deduplicated and written in one transaction over this worker's own connection,
    ``("done", n, answers)`` out (``("store", n, error)`` when the store failed); until EOF."""
    _begin_worker()
    known: dict[str, tuple[SiteDefinition, PageLimits]] = {}
    try:
        conn.send(("ready", __file__))
    except OSError:
        return
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read, args=(conn, inbox), daemon=True).start()
    chain: Chain | None = None
    ready: dict[int, list[tuple[Any, SiteDefinition]]] = {}
    try:
        while (message := inbox.get()) is not None:
            kind, number, body = message
            answer: tuple[str, int, Any]
            if kind == "chunk":
                done: list[tuple[Any, SiteDefinition]] = []
                for index, (key, given, values) in enumerate(body):
                    progress[0] = time.monotonic()  # before the index: read in this order
                    progress[1] = index
                    if given is not None:
                        known[key] = given
                        if len(known) > KEEP:
                            del known[next(iter(known))]
                    site, limits = known[key]
                    done.append((_ready_article(values, site, limits), site))
                progress[1] = _IDLE
                ready[number] = done
                urls = [a[0].canonical_url if isinstance(a[0], Article) else None for a, _ in done]
                answer = ("prepared", number, urls)
            else:
                progress[1] = _WRITING
                try:
                    if chain is None:
                        store.open()
                        if isinstance(store, SQLiteStore):
                            store.conn.execute(f"PRAGMA cache_size=-{WORKER_CACHE_KIB}")
                        chain = Chain(store)
                    answer = ("done", number, _write_chunk(chain, ready.pop(number), set(body)))
                except Exception as exc:  # the store's: the caller stops
                    answer = ("store", number, str(exc) or type(exc).__name__)
                progress[1] = _IDLE
            try:
                conn.send(answer)
            except (BrokenPipeError, OSError):
                return
    finally:
        if chain is not None:
            store.close()


class WritingPool(WorkerPool):
    """Workers that prepare a chunk of consecutive pages each and then, in the chunks'
    order, deduplicate and write it over their own store connection (``store``: not yet
    opened, pickled to each worker; a second connection must see the same data).

    The store takes the chunks in the order they were submitted: a worker that prepared
    its chunk waits for its turn, given by the driver once the chunk before is committed,
    so stories and versions are those of one writer taking the pages in order. The turn
    also carries "the same canonical URL twice in a run", decided here over ``seen`` (the
    canonical URLs each worker found, in order) before the worker writes.

    A worker lost on a page (died, or over ``timeout`` on it) loses that page (answered
    "lost"); the other pages of its chunk go to the next worker. One lost while waiting
    for its turn loses nothing; one lost while writing has its chunk written again once
    (its transaction was rolled back, or a second write finds it unchanged), then lost.
    Where workers cannot run (:attr:`broken`), the chunks not yet written fail with
    :class:`NotWritten`: the caller prepares and writes them itself."""

    def __init__(
        self,
        jobs: int,
        store: WriterStore,
        seen: SeenURLs,
        timeout: float = DEFAULT_TIMEOUT,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        self._store, self.seen = store, seen
        self._submitted = 0  # chunks submitted
        self._turn = 0  # the chunk to write next
        self._writing: _Chunk | None = None  # the chunk being written
        self._unsent: set[int] = set()  # chunks that could not be sent: no turn to wait for
        super().__init__(jobs, timeout, max_pages)

    def submit_chunk(
        self, pages: Sequence[tuple[Page, SiteDefinition, str]]
    ) -> Future[list[Answer]]:
        """Each page's :data:`Answer` once its chunk is written, in order; ``pages``:
        (page, site, run). The future fails with the store's error
        (:class:`~aggregator.store.StoreUnavailable`), :class:`NotWritten` or, when the pool
        stopped first, :class:`WorkerLost`."""
        future: Future[list[Answer]] = Future()
        with self._lock:
            items = [(i, page, site, run) for i, (page, site, run) in enumerate(pages)]
            chunk = _Chunk(self._submitted, items, future, len(items))
            self._submitted += 1
            self._tasks.append(chunk)
            wake, self._asleep = self._asleep, False
        if wake:
            os.write(self._wake_w, b"\0")
        return future

    def _worker(self) -> _Worker:
        progress = self._context.RawArray("d", [0.0, _IDLE])
        worker = _Worker(self._context, _write_work, self._store, progress)
        worker.progress = progress
        return worker

    def _open(self, slots: list[_Slot]) -> list[_Slot]:
        return [s for s in super()._open(slots) if not s.held]  # one chunk at a time

    def _message(self, task: Any, keys: dict[str, None]) -> Any:
        assert isinstance(task, _Chunk)
        pages = [
            (*self._give(site, page.limits, keys), tuple(getattr(page, n) for n in _PAGE_FIELDS))
            for _, page, site, _ in task.items
        ]
        task.urls = None
        return ("chunk", task.number, pages)

    def _send(self, slot: _Slot, task: Any, slots: list[_Slot]) -> bool:
        sent = super()._send(slot, task, slots)
        if task.future.done():  # not picklable: failed, its turn passes
            self._unsent.add(task.number)
            self._pass_turn(slots)
        return sent

    def _due(self, slot: _Slot) -> float | None:
        since, index = slot.worker.progress[:]
        return since + self.timeout if slot.held and index >= 0 else None

    def _answer(self, slot: _Slot, slots: list[_Slot], message: Any) -> None:
        chunk: _Chunk = slot.held[0]
        kind, number, body = message
        if number != chunk.number:
            return  # not our worker's protocol
        with self._lock:
            self._answered, self._failures = True, 0
        if kind == "prepared":
            chunk.urls = body
            self._pass_turn(slots)
            return
        slot.held.popleft()
        self._writing = None
        self._turn += 1
        spent = self._spent(slot)
        with self._lock:
            self.retired += spent
        if kind == "done":
            answers = iter(body)
            given = chunk.answers
            chunk.future.set_result(
                [given[p] if p in given else next(answers) for p in range(chunk.size)]
            )
        else:
            chunk.future.set_exception(StoreUnavailable(body))
        if spent:
            self._drop(slot, slots)
        self._pass_turn(slots)

    def _pass_turn(self, slots: list[_Slot]) -> None:
        """The turn to the worker holding the next chunk, once it is prepared and the one
        before is written."""
        if self._writing is not None or self.broken:
            return
        while self._turn in self._unsent:
            self._unsent.discard(self._turn)
            self._turn += 1
        for slot in slots:
            chunk = slot.held[0] if slot.held else None
            if chunk is None or chunk.number != self._turn or chunk.urls is None:
                continue
            if chunk.skip is None:
                chunk.skip = {
                    place
                    for (place, _, _, run), url in zip(chunk.items, chunk.urls, strict=True)
                    if url is not None and not self.seen.first(url, run)
                }
            skip = [i for i, (place, *_) in enumerate(chunk.items) if place in chunk.skip]
            self._writing = chunk
            chunk.writes += 1
            try:
                slot.worker.conn.send(("turn", chunk.number, skip))
            except OSError:
                self._gone(slot, slots)
            return

    def _fault(self, slot: _Slot, message: str) -> None:
        chunk: _Chunk = slot.held[0]  # back to the queue with what is left of it
        if chunk is self._writing:
            self._writing = None
            if chunk.writes < MAX_WRITES:
                return
            for place, *_ in chunk.items:
                chunk.answers[place] = ("lost", message, None)
            chunk.items = []
            return
        index = int(slot.worker.progress[1])
        if chunk.urls is None and 0 <= index < len(chunk.items):
            place = chunk.items.pop(index)[0]
            chunk.answers[place] = ("lost", message, None)

    def _dispatch(self, slots: list[_Slot]) -> None:
        if self.broken:  # no more turns: every chunk not being written is the caller's
            for slot in list(slots):
                if not slot.held or slot.held[0] is not self._writing:
                    self._drop(slot, slots, kill=True)
        super()._dispatch(slots)

    def _in_thread(self, task: Any) -> None:
        task.future.set_exception(NotWritten("extraction workers cannot run here"))


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
