"""A replay's first catch-up's liquidations read by a child process, on the machine's other core (``ReadAhead``).

A late replay's catch-up is reading (SQLite's rows into columns and events, ~half its CPU) and
applying (the engine); in one process they take turns. ``ReadAhead`` reads the liquidations up to the
catch-up's end (``read_liquidations``: most of the rows, most of the reading) in ``python -m
liqtui.feeds.replay_ahead`` and hands them over as they come, read here with the other events
(``read_runs(liquidations=...)``: the same runs and events, in the same order as ``read_runs``
alone; ``tests/unit/storage/test_bulk_path.py``), so the desk applies one part while the child reads
the next; after the catch-up's end the desk reads on itself. The other events (~3 % of a stress
recording's rows, but a third of its reading) are read here: sent over, their pickling and unpickling
cost more than reading them. The child writes pickled chunks of reads to its stdout, a pipe only this
process reads; a ``StoreError`` goes over as one and is raised where the reading met it. A child
that cannot start (nothing came from it) leaves the liquidations to this process too.

A child starts before it is told what to read (``start_child``): it imports what it reads with
(numpy too, ~0.2 s), then reads the file, the catch-up's end and the newest row to read from its
stdin, so the desk can start it first thing, before it knows them, and its start-up is off the
catch-up's critical path (`liqtui replay FILE --from TIME`: the command line starts it, ``start_early``,
before the command's own imports). This module imports the reader only where it reads, so starting a child
costs the desk almost nothing.

The live desk's warm-up from its recording reads ahead the same way (``spans``: each kind's own span,
``storage.reader.start_warm``'s ``ahead``), its child started first thing at launch.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liqtui.storage.reader import RunStream, Span

CHUNK_ROWS = 16_384  # liquidation rows a chunk holds at most
_CHUNKS_AHEAD = 16  # chunks the parent holds unread: the child waits beyond that
_HEAD = struct.Struct("<Q")  # a chunk's length in bytes, before its pickle
_END = object()
WAIT = object()  # ``ReadAhead.poll``: nothing came yet


def cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def start_child() -> subprocess.Popen[bytes]:
    """A reading child, started: it gets ready, then waits to be told what to read (``ReadAhead``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "liqtui.feeds.replay_ahead"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def spare_child() -> subprocess.Popen[bytes] | None:
    """A child started before the file and the catch-up's end are known (``ReplaySource``'s ``child``);
    None on one core (the child would take the desk's) or with no child process to be had."""
    if cores() < 2:
        return None
    try:
        return start_child()
    except OSError:
        return None


def held_in_blocks(path: str | os.PathLike[str]) -> bool:
    """Whether the recording at ``path`` holds its liquidations in packed blocks (storage/blocks.py): the
    desk reads those itself in ~0.1 s, and no child is started for it. False when it cannot tell (no such
    file, not SQLite, made before blocks): a child may read it."""
    import sqlite3

    try:
        conn = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
    except (sqlite3.Error, ValueError):
        return False
    try:
        return conn.execute("SELECT 1 FROM liquidation_blocks LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


_early: list[subprocess.Popen[bytes] | None] = []  # ``start_early``'s child, until taken


def start_early(words: Sequence[str] = ()) -> None:
    """A ``spare_child`` started as the command line is first looked at, before the command's own imports
    (~0.15-0.2 s of CPU: the engine's and the config's modules), so the child's (numpy and the reader,
    ~0.25 s) go on beside them on the other core; ``take_early`` hands it to the command. None when one of
    the command line's ``words`` is a recording held in blocks (``held_in_blocks``)."""
    discard(take_early())
    if any(os.path.isfile(word) and held_in_blocks(word) for word in words):
        return
    _early.append(spare_child())


def take_early() -> subprocess.Popen[bytes] | None:
    """The child ``start_early`` started (None: none); the caller uses it or ends it (``discard``)."""
    return _early.pop() if _early else None


def discard(child: subprocess.Popen[bytes] | None) -> None:
    """A started child not needed: told nothing, it ends."""
    if child is None:
        return
    with contextlib.suppress(OSError):
        if child.stdin is not None:
            child.stdin.close()
    with contextlib.suppress(OSError):
        child.kill()
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


class ReadAhead(Iterator[Any]):
    """The items of ``read_runs(path)`` with a run's ``merge_until`` at ``until_ms``: those up to
    ``until_ms`` with their liquidations from the child (``child``: one ``start_child`` started; else one
    is started now), then the rest read here. ``poll()`` is the next item, ``WAIT`` or None at the end
    (it never waits); ``note()`` says the damaged rows skipped (every part). With ``spans`` (a
    warm-up's, none after ``until_ms``): ``read_runs`` of those spans, and nothing after them."""

    def __init__(
        self,
        path: Path,
        until_ms: int,
        child: subprocess.Popen[bytes] | None = None,
        spans: Mapping[str, Span] | None = None,
    ) -> None:
        from liqtui.storage.reader import newest_seq, read_runs

        try:  # the child and this process read the same rows
            self._top_seq = top_seq = newest_seq(path)
        except BaseException:
            discard(child)  # a file that cannot be read: the reading here says so
            raise
        self.path, self.until_ms, self._spans = path, until_ms, spans
        self._since = spans["liquidations"][0] if spans is not None else None  # the liquidations' start
        self.merge_until: int | None = until_ms  # as RunStream's
        self.skipped: Counter[str] = Counter()  # the child's
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_CHUNKS_AHEAD)
        self._reads: deque[Any] = deque()  # the child's reads received, not yet taken by ``_runs``
        self._tail: RunStream | None = None
        self._here: Any = None  # the liquidations read here when the child sent none
        self._done = False  # the child's last chunk came
        self._ended = False  # the child ended (its pipe's end came)
        self._received = False  # a chunk came: the engine holds its reads, no reading again from the start
        self._closed = threading.Event()
        self._markets: dict[Any, Any] | None = None
        self._child = child if child is not None else start_child()
        since = b"" if self._since is None else str(self._since).encode()
        told = [str(until_ms).encode(), str(top_seq).encode(), since, os.fsencode(path)]
        _tell(self._child.stdin, b"\0".join(told))
        self._runs = read_runs(
            path, until_ms=until_ms, top_seq=top_seq, liquidations=self._liquidations(), spans=spans
        )
        self._runs.merge_until = until_ms
        self._pump = threading.Thread(target=self._receive, name="replay-ahead", daemon=True)
        self._pump.start()

    def _receive(self) -> None:
        """The child's chunks into the queue as bytes (a blocking read releases the GIL: the thread
        takes none of the desk's CPU, unpickled when polled); ``_END`` at the child's end."""
        out = self._child.stdout
        assert out is not None
        try:
            while len(head := out.read(_HEAD.size)) == _HEAD.size:
                frame = out.read(_HEAD.unpack(head)[0])
                if not self._put(frame):
                    return
        except (OSError, ValueError):  # closed
            pass
        finally:
            self._put(_END)

    def _put(self, got: Any) -> bool:
        """Into the queue, waiting while it is full; False once closed (nobody reads it any more)."""
        while not self._closed.is_set():
            try:
                self._queue.put(got, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def poll(self) -> Any:
        """The next item, ``WAIT`` when the child has not sent the liquidations it needs yet, None at the end."""
        from liqtui.storage.reader import read_runs

        if self._tail is not None:
            return next(self._tail, None)
        if not self._reads and not (self._done or self._ended) and not self._receive_one(block=False):
            return WAIT
        item = next(self._runs, None)
        if item is None and self._spans is None:  # read up to until_ms: the rest from the next millisecond
            self._tail = read_runs(self.path, since_ms=self.until_ms + 1)
            return self.poll()
        return item

    def _liquidations(self) -> Iterator[Any]:
        """The child's reads, for ``read_runs``: those received, then (rarely: ``poll`` waits for them)
        the next ones waited for; when the child sent nothing, the liquidations read here."""
        from liqtui.storage.reader import read_liquidations

        while True:
            while self._reads:
                read = self._reads.popleft()
                if isinstance(read, BaseException):
                    raise read
                yield read
            if self._done or self._ended:
                break
            self._receive_one(block=True)
        if not self._received:
            self._here = read_liquidations(self.path, self._since, self.until_ms, top_seq=self._top_seq)
            yield from self._here

    def _receive_one(self, *, block: bool) -> bool:
        """The child's next chunk into ``_reads``, or its end (waiting for either when ``block``); False
        when neither came yet."""
        from liqtui.engine.batch import LiquidationBatch

        try:
            got = self._queue.get(timeout=None) if block else self._queue.get_nowait()
        except queue.Empty:
            return False
        if got is _END:
            self._finish_child()
            return True
        try:
            reads, skipped, done = pickle.loads(got)
        except (pickle.UnpicklingError, EOFError, ValueError):
            reads, skipped, done = [], self.skipped, False  # a cut frame: the child stopped part way
        # One markets dict for every batch, as one reader's (the engine's concat takes its fast path)
        for read in reads:
            if isinstance(read, tuple) and type(read[1]) is LiquidationBatch:
                if self._markets is None or read[1].markets != self._markets:
                    self._markets = dict(read[1].markets)
                read[1].markets = self._markets
        self.skipped = Counter(skipped)
        self._reads.extend(reads)
        self._received = True
        self._done = done
        return True

    def __next__(self) -> Any:
        item = self.poll()
        while item is WAIT:
            self._pump.join(0.002)
            item = self.poll()
        if item is None:
            raise StopIteration
        return item

    def _finish_child(self) -> None:
        """The child ended: it read to ``until_ms`` (``_done``), or could not start (nothing came: the
        liquidations are read here), or stopped part way (``StoreError``)."""
        from liqtui.storage.schema import StoreError

        self._child.wait()
        self._ended = True
        if not self._done and self._received:
            code = self._child.returncode
            raise StoreError(f"{self.path}: the reading child process stopped part way (exit code {code})")

    def note(self) -> str | None:
        from liqtui.storage.layouts import damage_note

        skipped = self.skipped + self._runs.skipped
        for stream in (self._here, self._tail):
            if stream is not None:
                skipped += stream.skipped
        return damage_note(self.path, skipped)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._child.kill()
        self._child.wait()
        self._pump.join(1.0)  # it reads the killed child's end of the pipe, then stops
        if self._child.stdout is not None:
            self._child.stdout.close()
        self._runs.close()
        for stream in (self._here, self._tail):
            if stream is not None:
                stream.close()


def _tell(stdin: IO[bytes] | None, told: bytes) -> None:
    """What a child reads, on its stdin (closed then); a child that ended hears nothing (it sends nothing:
    the reading stays here)."""
    if stdin is None:
        return
    with contextlib.suppress(OSError):
        stdin.write(told)
    with contextlib.suppress(OSError):
        stdin.close()


def _send(path: str, since_ms: int | None, until_ms: int, top_seq: int) -> None:
    """The child: ``read_liquidations`` from ``since_ms`` up to ``until_ms`` as pickled chunks on stdout
    (reads, the damaged rows skipped so far, whether it is the last)."""
    from liqtui.storage.reader import read_liquidations
    from liqtui.storage.schema import StoreError

    out = sys.stdout.buffer
    stream = read_liquidations(path, since_ms, until_ms, top_seq=top_seq)

    def send(chunk: list[Any], last: bool) -> None:
        data = pickle.dumps((chunk, dict(stream.skipped), last), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEAD.pack(len(data)) + data)
        out.flush()

    chunk: list[Any] = []
    rows = 0
    try:
        for read in stream:
            chunk.append(read)
            rows += len(read[1])
            if rows >= CHUNK_ROWS:
                send(chunk, False)
                chunk, rows = [], 0
    except StoreError as exc:
        chunk.append(exc)
    send(chunk, True)


def _child() -> None:
    """The child's life: ready to read (the reader and numpy imported), then what it is told on stdin
    (the catch-up's end in ms, the newest row's seq, the start in ms or nothing and the file's path, NUL
    between) until it is closed; told nothing, it ends."""
    with contextlib.suppress(OSError):
        os.nice(5)  # spare CPU only: on a busy machine the desk's first frame and keys come first
    # A short-lived reader whose objects are rows, freed by their count as each chunk is sent: the
    # collector's passes over them were ~8 % of its CPU (bench/README.md, "The live desk's history ...").
    gc.disable()
    import numpy  # noqa: F401 - the columns' module, imported while the desk works out what to read

    import liqtui.storage.reader  # noqa: F401

    told = sys.stdin.buffer.read()
    if told:
        until, top_seq, since, path = told.split(b"\0", 3)
        _send(os.fsdecode(path), int(since) if since else None, int(until), int(top_seq))


if __name__ == "__main__":
    _child()
