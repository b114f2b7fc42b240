"""A program in a pane of a private tmux server, measured from outside (stdlib, Linux /proc, tmux >= 3.2).

Used by ``bench_desk.py``; nothing here knows about liqtui. ``Pane`` starts the command in a detached
tmux server of its own (its own socket: the user's tmux is never touched) at a fixed size, copies
everything the program writes to its terminal into a file (``pipe-pane``), and talks to the server
through one control-mode client, so reading the screen (``capture-pane``) or sending a key costs a
round trip on a pipe, not a fork of ``tmux`` per poll.
"""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _proc_stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds including reaped children, RSS bytes) from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "(comm)": state ppid ... utime=11 ... rss=21
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / CLOCK_TICKS, int(fields[21]) * PAGE_BYTES


def tree_usage(root: int) -> tuple[float, int]:
    """CPU seconds and RSS bytes of ``root`` and every process below it."""
    stats = {int(d): s for d in os.listdir("/proc") if d.isdigit() and (s := _proc_stat(int(d)))}
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, s in stats.items() if s[0] == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(stats[p][1] for p in tree if p in stats), sum(stats[p][2] for p in tree if p in stats)


class _Control:
    """A persistent ``tmux -C`` client: one command, one reply block, no process per command."""

    def __init__(self, base: list[str], session: str) -> None:
        self._proc = subprocess.Popen(
            [*base, "-C", "attach", "-t", session, "-f", "ignore-size,no-output"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._replies: queue.Queue[tuple[bool, list[str]]] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        # The attach itself answers with a block: skip blocks until a marker of ours comes back.
        self._proc.stdin.write("display-message -p __ready__\n")
        self._proc.stdin.flush()
        while not any("__ready__" in line for line in self._replies.get(timeout=10)[1]):
            pass

    def _read(self) -> None:
        block: list[str] | None = None
        ours = False
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("%begin"):
                block, ours = [], line.split()[-1] == "1"  # flag 1: the reply to a command we sent
            elif line.startswith(("%end", "%error")):
                if block is not None and ours:
                    self._replies.put((line.startswith("%end"), block))
                block = None
            elif block is not None:
                block.append(line)

    def __call__(self, command: str) -> list[str]:
        with self._lock:
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
            ok, lines = self._replies.get(timeout=10)
        if not ok:
            raise RuntimeError(f"tmux: {command!r} failed: {lines}")
        return lines

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.terminate()
        self._proc.wait(timeout=5)


class Pane:
    """``command`` running in a ``cols`` x ``rows`` tmux pane; use as a context manager."""

    def __init__(
        self,
        command: list[str],
        cols: int,
        rows: int,
        env: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
        term: str = "xterm-256color",
    ) -> None:
        self.work = tempfile.mkdtemp(prefix="liqtui-pane-")
        conf = os.path.join(self.work, "tmux.conf")
        with open(conf, "w") as f:
            f.write(
                f'set -g default-terminal "{term}"\nset -g status off\nset -g remain-on-exit on\n'
                "set -g history-limit 100\nset -s escape-time 0\n"
            )
        self._base = ["tmux", "-L", os.path.basename(self.work), "-f", conf]  # a server per pane
        self.output = os.path.join(self.work, "pane.out")
        open(self.output, "wb").close()
        self._command = "exec env " + " ".join(
            [
                *(f"-u {shlex.quote(name)}" for name in unset),
                *(shlex.quote(f"{k}={v}") for k, v in (env or {}).items()),
                *(shlex.quote(part) for part in command),
            ]
        )
        self._size = (cols, rows)
        self._control: _Control | None = None
        self.pid = 0
        self.launched = 0.0

    def __enter__(self) -> Pane:
        cols, rows = self._size
        # A placeholder first, so that the output pipe is attached before the program writes anything.
        subprocess.run(
            [*self._base, "new-session", "-d", "-s", "m", "-x", str(cols), "-y", str(rows), "sleep 100000"],
            check=True,
        )
        subprocess.run(
            [*self._base, "pipe-pane", "-t", "m", "-O", f"cat >> {shlex.quote(self.output)}"], check=True
        )
        self._control = _Control(self._base, "m")
        self.launched = time.perf_counter()
        self._control(f"respawn-pane -k -t m {shlex.quote(self._command)}")
        self.pid = int(self._control("display-message -p -t m '#{pane_pid}'")[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._control is not None:
            self._control.close()
        subprocess.run([*self._base, "kill-server"], stderr=subprocess.DEVNULL)
        socket = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self._base[2])
        if os.path.exists(socket):  # tmux leaves it behind when the server is killed
            os.unlink(socket)
        shutil.rmtree(self.work, ignore_errors=True)

    def screen(self) -> str:
        """The pane's text as tmux has parsed it (what a person sees)."""
        return "\n".join(self._control("capture-pane -p -t m"))

    def send(self, *keys: str, literal: bool = False) -> None:
        """tmux key names (``]``, ``Enter``), or with ``literal`` the characters of a text."""
        flag = "-l " if literal else ""
        self._control(f"send-keys -t m {flag}" + " ".join(shlex.quote(k) for k in keys))

    def wait_for(
        self, shown: Callable[[str], bool], timeout: float, since: float | None = None, poll: float = 0.001
    ) -> float | None:
        """Seconds from ``since`` (default: now) until ``shown(screen)`` holds, polling tmux's
        screen every ``poll`` s; None if it does not within ``timeout``."""
        start = time.perf_counter() if since is None else since
        while time.perf_counter() - start < timeout:
            if shown(self.screen()):
                return time.perf_counter() - start
            time.sleep(poll)
        return None

    def alive(self) -> bool:
        return self._control("display-message -p -t m '#{pane_dead}'")[0] != "1"

    def written(self) -> int:
        """Bytes the program has written to its terminal so far."""
        return os.path.getsize(self.output)

    def usage(self) -> tuple[float, int]:
        """CPU seconds and RSS bytes of the program (and any process it started)."""
        return tree_usage(self.pid)
