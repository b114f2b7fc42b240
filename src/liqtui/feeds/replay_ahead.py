"""A replay's first catch-up read by a child process, on the machine's other core (``ReadAhead``).

A late replay's catch-up is reading (SQLite's rows into columns and events, ~half its CPU) and
applying (the engine); in one process they take turns. ``ReadAhead`` runs ``read_runs`` up to the
catch-up's end in ``python -m liqtui.feeds.replay_ahead`` and hands its items over as they come, so
the desk applies one part while the child reads the next; after the catch-up's end the desk reads
on itself. The events are the same, in the same order (the child reads the same file the same way:
``tests/unit/storage/test_bulk_path.py``). The child writes pickled chunks of items to its stdout,
a pipe only this process reads; a ``StoreError`` goes over as one and is raised where the reading
met it. A child that cannot start (nothing came from it) leaves the whole reading to this process.

A child starts before it is told what to read (``start_child``): it imports what it reads with
(numpy too, ~0.2 s), then reads the file and the catch-up's end from its stdin, so the desk can start it
first thing, before it knows them, and its start-up is off the catch-up's critical path. This module
imports the reader only where it reads, so starting a child costs the desk almost nothing.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liqtui.storage.reader import RunStream

CHUNK_ROWS = 16_384  # liquidation rows (an event counts 16) a chunk holds at most
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
    ``until_ms`` from the child (``child``: one ``start_child`` started; else one is started now), then
    the rest read here. ``poll()`` is the next item, ``WAIT`` or None at the end (it never waits);
    ``note()`` says the damaged rows skipped (both parts)."""

    def __init__(self, path: Path, until_ms: int, child: subprocess.Popen[bytes] | None = None) -> None:
        self.path, self.until_ms = path, until_ms
        self.merge_until: int | None = until_ms  # as RunStream's (the child's own is until_ms)
        self.skipped: Counter[str] = Counter()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_CHUNKS_AHEAD)
        self._items: Iterator[Any] = iter(())
        self._tail: RunStream | None = None
        self._done = False  # the child's last chunk came
        self._received = False  # a chunk came: the engine holds its items, no reading again from the start
        self._closed = threading.Event()
        self._markets: dict[Any, Any] | None = None
        self._child = child if child is not None else start_child()
        _tell(self._child.stdin, str(until_ms).encode() + b"\0" + os.fsencode(path))
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
        """The next item, ``WAIT`` when the child has not sent it yet, None at the end."""
        from liqtui.engine.batch import LiquidationBatch

        for item in self._items:
            if isinstance(item, BaseException):
                raise item
            return item
        if self._tail is not None:
            return next(self._tail, None)
        try:
            got = self._queue.get_nowait()
        except queue.Empty:
            return WAIT
        if got is _END:
            self._finish_child()
            return self.poll()
        try:
            items, skipped, done = pickle.loads(got)
        except (pickle.UnpicklingError, EOFError, ValueError):
            items, skipped, done = [], self.skipped, False  # a cut frame: the child stopped part way
        # One markets dict for every batch, as one reader's (the engine's concat takes its fast path)
        for item in items:
            if type(item) is LiquidationBatch:
                if self._markets is None or item.markets != self._markets:
                    self._markets = dict(item.markets)
                item.markets = self._markets
        self.skipped = Counter(skipped)
        self._items = iter(items)
        self._received = True
        self._done = done
        return self.poll()

    def __next__(self) -> Any:
        item = self.poll()
        while item is WAIT:
            self._pump.join(0.002)
            item = self.poll()
        if item is None:
            raise StopIteration
        return item

    def _finish_child(self) -> None:
        """The child ended: when it read to ``until_ms``, the rest is read here from the next
        millisecond; when it could not start, all of it (nothing was handed over yet)."""
        from liqtui.storage.reader import read_runs
        from liqtui.storage.schema import StoreError

        self._child.wait()
        if self._done:
            self._tail = read_runs(self.path, since_ms=self.until_ms + 1)
        elif not self._received:
            self._tail = read_runs(self.path)
            self._tail.merge_until = self.until_ms
        else:
            code = self._child.returncode
            raise StoreError(f"{self.path}: the replay's reader stopped part way (exit code {code})")

    def note(self) -> str | None:
        from liqtui.storage.layouts import damage_note

        skipped = self.skipped + (self._tail.skipped if self._tail is not None else Counter())
        return damage_note(self.path, skipped)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._child.kill()
        self._child.wait()
        self._pump.join(1.0)  # it reads the killed child's end of the pipe, then stops
        if self._child.stdout is not None:
            self._child.stdout.close()
        if self._tail is not None:
            self._tail.close()


def _tell(stdin: IO[bytes] | None, told: bytes) -> None:
    """What a child reads, on its stdin (closed then); a child that ended hears nothing (it sends nothing:
    the reading stays here)."""
    if stdin is None:
        return
    with contextlib.suppress(OSError):
        stdin.write(told)
    with contextlib.suppress(OSError):
        stdin.close()


def _send(path: str, until_ms: int) -> None:
    """The child: ``read_runs`` up to ``until_ms`` as pickled chunks on stdout (items, the damaged rows
    skipped so far, whether it is the last)."""
    from liqtui.engine.batch import LiquidationBatch
    from liqtui.storage.reader import read_runs
    from liqtui.storage.schema import StoreError

    out = sys.stdout.buffer
    stream = read_runs(path, until_ms=until_ms)
    stream.merge_until = until_ms

    def send(chunk: list[Any], last: bool) -> None:
        data = pickle.dumps((chunk, dict(stream.skipped), last), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEAD.pack(len(data)) + data)
        out.flush()

    chunk: list[Any] = []
    rows = 0
    try:
        for item in stream:
            chunk.append(item)
            rows += len(item) if type(item) is LiquidationBatch else 16
            if rows >= CHUNK_ROWS:
                send(chunk, False)
                chunk, rows = [], 0
    except StoreError as exc:
        chunk.append(exc)
    send(chunk, True)


def _child() -> None:
    """The child's life: ready to read (the reader and numpy imported), then what it is told on stdin
    (the catch-up's end in ms, a NUL, the file's path) until it is closed; told nothing, it ends."""
    with contextlib.suppress(OSError):
        os.nice(5)  # spare CPU only: on a busy machine the desk's first frame and keys come first
    import numpy  # noqa: F401 - the columns' module, imported while the desk works out what to read

    import liqtui.storage.reader  # noqa: F401

    told = sys.stdin.buffer.read()
    if told:
        until, path = told.split(b"\0", 1)
        _send(os.fsdecode(path), int(until))


if __name__ == "__main__":
    _child()
