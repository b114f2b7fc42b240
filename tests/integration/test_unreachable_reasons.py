"""A venue that cannot be reached says why, in words: the real ccxt client against
127.0.0.1, through `liqtui tail`'s feed-health lines, which the desk's offer dialog shows too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

PREFIXES = {
    "binanceusdm": ["https://fapi.binance.com", "wss://fstream.binance.com"],
    "bybit": ["https://api.bybit.com", "wss://stream.bybit.com"],
}


def _tail_health(tmp_path, port: int, duration: float = 3) -> str:
    lines = []
    for venue, urls in PREFIXES.items():
        rewrite = ", ".join(f'"{url}" = "http://127.0.0.1:{port}"' for url in urls)
        lines += [
            f"[venues.{venue}]",
            f"url_rewrite = {{ {rewrite} }}",
            'ccxt = { "rateLimit" = 1, "timeout" = 700 }',
        ]
    config = tmp_path / "c.toml"
    config.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "liqtui",
            "tail",
            "--duration",
            str(duration),
            "--venues",
            *PREFIXES,
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_closed_port_reads_connection_refused(tmp_path):
    with socket.socket() as sock:  # bound, never listening: connections are refused, and no other
        sock.bind(("127.0.0.1", 0))  # test (pytest-xdist's other worker) can take the port meanwhile
        stderr = _tail_health(tmp_path, sock.getsockname()[1])
    for venue in PREFIXES:
        assert f"liqtui: {venue} down: cannot load markets: connection refused" in stderr, stderr


def test_a_server_that_never_answers_reads_timed_out(tmp_path):
    with socket.socket() as sock:  # listens, never accepts: the kernel completes the handshake, no reply
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        # 8 s: the 700 ms timeout must run out after the start-up (imports), even on a loaded machine
        stderr = _tail_health(tmp_path, sock.getsockname()[1], duration=8)
    for venue in PREFIXES:
        assert f"liqtui: {venue} down: cannot load markets: timed out" in stderr, stderr
