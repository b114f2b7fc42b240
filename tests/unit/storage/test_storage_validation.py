"""Unusable files (missing, empty, text, foreign SQLite, newer schema, truncated, corrupt) give one
clear StoreError from every reader, and exit code 2 without a traceback from the commands."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from liqtui.cli import main
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, StoreError, describe, read_events, warm
from liqtui.storage.export import frame
from liqtui.storage.summary import summarize

from storage_events import stream

_GOOD: dict[int, bytes] = {}


def _good(path: Path, seconds: int = 120) -> Path:
    """A sound recording (made once per length, then copied)."""
    if seconds not in _GOOD:
        original = path.with_name(f"original-{seconds}.sqlite")
        with Recorder(original) as recorder:
            for e in stream(seconds=seconds):
                recorder.add(e)
        _GOOD[seconds] = original.read_bytes()
    path.write_bytes(_GOOD[seconds])
    return path


def _text(path: Path) -> Path:
    path.write_text("time,price\n1,2\n")
    return path


def _foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, price REAL)")
    conn.execute("INSERT INTO trades (price) VALUES (1.5)")
    conn.commit()
    conn.close()
    return path


def _empty_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")  # a valid, non-empty file with no tables
    conn.commit()
    conn.close()
    return path


def _newer(path: Path) -> Path:
    _good(path, seconds=5)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path


def _truncated(path: Path) -> Path:
    _good(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_header(path: Path) -> Path:
    _good(path, seconds=5)
    path.write_bytes(path.read_bytes()[:60])
    return path


def _corrupt(path: Path) -> Path:
    _good(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    # Garbage over every page but the first: the header is intact, the b-trees are not.
    for i in range(page, len(data)):
        data[i] = (i * 7 + 13) % 251
    path.write_bytes(bytes(data))
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


BAD_FILES = {
    "missing": (lambda p: p, "no such recording"),
    "empty": (_empty, "empty file"),
    "text": (_text, "not an SQLite database"),
    "foreign": (_foreign, "another application; tables: trades"),
    "empty-sqlite": (_empty_sqlite, "empty SQLite database"),
    "newer": (_newer, "newer liqtui (schema version 99"),
    "truncated": (_truncated, "truncated recording"),
    "truncated-header": (_truncated_header, "truncated recording"),
    "corrupt": (_corrupt, "corrupt recording"),
}

READERS = {
    "read_events": lambda p: list(read_events(p)),
    "describe": describe,
    "summarize": lambda p: summarize(p, "all"),
    "export": lambda p: frame(p, "books"),
    "replay": lambda p: ReplaySource(p, speed=0),
    "warm": lambda p: warm(_Sink(), p, 2**62, missing_ok=False),
}


class _Sink:
    def apply(self, event):
        pass


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_every_reader_gives_one_clear_error(tmp_path, bad, reader):
    make, words = BAD_FILES[bad]
    path = make(tmp_path / "bad.sqlite")
    with pytest.raises(StoreError) as info:
        READERS[reader](path)
    assert str(path) in str(info.value)
    if not (bad == "corrupt" and reader != "read_events"):
        assert words in str(info.value)


@pytest.mark.parametrize("bad", ["text", "foreign", "newer", "truncated", "corrupt", "empty-sqlite"])
def test_the_recorder_refuses_a_file_it_must_not_write(tmp_path, bad):
    make, _words = BAD_FILES[bad]
    path = make(tmp_path / "bad.sqlite")
    before = path.read_bytes()
    with pytest.raises(StoreError):
        Recorder(path)
    assert path.read_bytes() == before  # nothing was written into someone else's file


def test_the_recorder_starts_a_new_file_in_an_empty_one(tmp_path):
    path = _empty(tmp_path / "new.sqlite")
    Recorder(path).close()
    assert describe(path).rows["liquidations"] == 0


COMMANDS = {
    "stats": ["stats"],
    "stats-json": ["stats", "--json"],
    "export": ["export", "--to", "csv"],
    "record": ["record", "--duration", "1", "--out"],
}
# The recorder starts a new recording where there is none (missing) or an empty file.
COMMAND_CASES = [
    (name, bad)
    for name in COMMANDS
    for bad in BAD_FILES
    if not (name == "record" and bad in ("missing", "empty"))
]


@pytest.mark.parametrize("command, bad", COMMAND_CASES)
def test_commands_exit_2_with_one_message(tmp_path, capsys, monkeypatch, command, bad):
    argv = COMMANDS[command]
    monkeypatch.chdir(tmp_path)
    make, _words = BAD_FILES[bad]
    path = make(tmp_path / "bad.sqlite")
    args = [*argv, str(path)] if argv[0] == "record" else [argv[0], str(path), *argv[1:]]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("liqtui: ") and str(path) in err and err.count("\n") == 1


def test_no_traceback_reaches_the_user(tmp_path):
    path = _corrupt(tmp_path / "bad.sqlite")
    for argv in (["stats", str(path)], ["export", str(path), "--to", "csv", "--kind", "books"]):
        result = subprocess.run(
            [sys.executable, "-m", "liqtui", *argv], capture_output=True, text=True, cwd=tmp_path
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr and "corrupt recording" in result.stderr
