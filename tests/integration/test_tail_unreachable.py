"""`liqtui tail` when no venue answers: it says so, never passes silence off as a quiet market."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def test_tail_with_every_venue_unreachable_says_so_and_exits_1(tmp_path):
    with socket.socket() as sock:  # bound, never listening: connections are refused, and no other
        sock.bind(("127.0.0.1", 0))  # test (pytest-xdist's other worker) can take the port meanwhile
        _tail_with_every_venue_at(tmp_path, sock.getsockname()[1])


def _tail_with_every_venue_at(tmp_path, port: int) -> None:
    prefixes = {
        "binanceusdm": ["https://fapi.binance.com", "wss://fstream.binance.com"],
        "bybit": ["https://api.bybit.com", "wss://stream.bybit.com"],
        "okx": ["https://www.okx.com", "wss://ws.okx.com:443"],
        "hyperliquid": ["https://api.hyperliquid.xyz", "wss://api.hyperliquid.xyz"],
    }
    lines = []
    for venue, urls in prefixes.items():
        rewrite = ", ".join(f'"{url}" = "http://127.0.0.1:{port}"' for url in urls)
        lines += [
            f"[venues.{venue}]",
            f"url_rewrite = {{ {rewrite} }}",
            'ccxt = { "rateLimit" = 1, "timeout" = 2000 }',
        ]
    config = tmp_path / "c.toml"
    config.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "liqtui", "tail", "--duration", "3", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1, result.stderr
    assert "no venue was reachable" in result.stderr
    # Changed on purpose: Hyperliquid's backstop vault feed is a venue like the others now (was "n/a (no public feed)").
    assert "hyperliquid n/a" not in result.stderr and "hyperliquid 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
