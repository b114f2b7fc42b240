"""Storage benchmark: how fast the recorder writes, how many bytes an event takes, and how much disk
an hour of recording takes. Prints figures; never fails on timing.

    .venv/bin/python bench/bench_storage.py            # all sections (about a minute)
    .venv/bin/python bench/bench_storage.py --quick    # shorter runs

Sections:
1. write and read rate: the demo market at the `stress` rate (>= 2,000 liquidations/s plus books), events
   generated first, then pushed through ``Recorder.add`` as fast as possible; the clock stops when
   ``close()`` has committed everything. Reports events/s and liquidations/s written, and the cost of
   one ``add`` call (what the desk's event loop pays); then the rate ``read_events`` reads it back.
2. bytes per event, per kind (SQLite's ``dbstat``: table + time index pages / rows).
3. one hour: one simulated hour of the demo market (`busy`, default settings: 4 venues, the
   watchlist + cross-asset symbols) written to a file and measured; then the disk an hour of LIVE
   recording of the default watchlist takes at stated rates (see ``LIVE_RATES``).
4. warm-up: how long ``warm`` takes to read back the OI lookback at a desk restart, alone and with
   the engine applying it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import zlib
from array import array
from collections import Counter
from pathlib import Path

from liqtui.config import Settings
from liqtui.domain.events import BookSnapshot
from liqtui.feeds.demo.market import DemoMarket
from liqtui.storage import Recorder, describe, read_events
from liqtui.storage.layouts import BY_KIND, KINDS, pack_levels

# Live recording of the default watchlist (3 symbols x 4 venues = 12 markets), events per second.
# Books: one stored per market per second (the recorder's cap). Tickers: about one per market per
# second (mark price / ticker streams). OI: one poll per market every `oi_poll_seconds` (15 s).
# Bars: one 1-minute bar per market per minute. Liquidations: 3 a second across the venues for
# three majors is a busy day; a cascade is 10-100x that for minutes.
LIVE_MARKETS = 12
LIVE_RATES = {
    "books": LIVE_MARKETS * 1.0,
    "tickers": LIVE_MARKETS * 1.0,
    "oi": LIVE_MARKETS / 15.0,
    "bars": LIVE_MARKETS / 60.0,
    "liquidations": 3.0,
    "status": 0.01,
}


def _events(rate: str, seconds: float, seed: int = 1) -> list:
    market = DemoMarket(Settings(), seed=seed, rate=rate)
    events = market.start_events()
    for _ in range(int(seconds * 10)):
        events += market.step(100)
    return events


def _fresh(directory: Path, name: str) -> Path:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def write_rate(directory: Path, seconds: float) -> None:
    print(f"1. write rate: demo `stress`, {seconds:.0f} s of simulated market")
    t0 = time.perf_counter()
    events = _events("stress", seconds)
    gen = time.perf_counter() - t0
    kinds = Counter(type(e).__name__ for e in events)
    liquidations = kinds["Liquidation"]
    print(
        f"   generated {len(events):,} events in {gen:.1f} s "
        f"({liquidations / seconds:,.0f} liquidations/s of simulated time, {kinds['BookSnapshot']:,} books)"
    )
    path = _fresh(directory, "rate.sqlite")
    recorder = Recorder(path, source_mode="DEMO")
    t0 = time.perf_counter()
    for event in events:
        recorder.add(event)
    added = time.perf_counter() - t0
    recorder.close()
    total = time.perf_counter() - t0
    print(f"   add(): {added / len(events) * 1e6:.2f} us per event on the caller's thread")
    print(
        f"   written: {len(events) / total:,.0f} events/s, {liquidations / total:,.0f} liquidations/s "
        f"(all committed in {total:.2f} s; the demo publishes them in {seconds:.0f} s)"
    )
    size = path.stat().st_size
    print(f"   file: {size / 1e6:.1f} MB, {size / len(events):.0f} bytes/event overall")
    t0 = time.perf_counter()
    read = sum(1 for _ in read_events(path))
    dt = time.perf_counter() - t0
    print(f"   read back (read_events, what replay and warm-up pay): {read / dt:,.0f} events/s")


def bytes_per_kind(path: Path) -> dict[str, float]:
    conn = sqlite3.connect(path)
    sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    out = {}
    for kind in KINDS:
        table = BY_KIND[kind].table
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        used = sizes.get(table, 0) + sizes.get(f"{table}_time", 0)
        if rows:
            out[kind] = used / rows
            if kind == "liquidations" and sizes.get("liquidation_blocks"):  # their packed blocks, beside
                out["liquidations, packed blocks"] = sizes["liquidation_blocks"] / rows
    conn.close()
    return out


def book_encoding(events: list) -> None:
    books = [e for e in events if isinstance(e, BookSnapshot)][:500]
    if not books:
        return
    raw = sum(len(b.bids) + len(b.asks) for b in books) * 16
    zipped = sum(
        len(zlib.compress(array("d", [x for lv in side for x in lv]).tobytes(), 6))
        for b in books
        for side in (b.bids, b.asks)
    )
    t0 = time.perf_counter()
    stored = sum(len(pack_levels(side)) for b in books for side in (b.bids, b.asks))
    pack_us = (time.perf_counter() - t0) / len(books) * 1e6
    print(
        f"   book blobs ({len(books)} demo books): float64 {raw / len(books):.0f} B, zlib'd float64 "
        f"{zipped / len(books):.0f} B, stored (decimal varints) {stored / len(books):.0f} B "
        f"({pack_us:.0f} us to encode a book)"
    )


def one_hour(directory: Path, seconds: float) -> None:
    print(f"3. one hour: demo `busy`, default settings, {seconds:.0f} s of simulated market")
    events = _events("busy", seconds)
    path = _fresh(directory, "hour.sqlite")
    with Recorder(path, source_mode="DEMO") as recorder:
        for event in events:
            recorder.add(event)
    info = describe(path)
    size = path.stat().st_size
    kept = sum(info.rows.values())
    print(
        f"   {len(events):,} events published, {kept:,} kept (books capped at 1/s per market), "
        f"{size / 1e6:.1f} MB -> {size / 1e6 * 3600 / seconds:.0f} MB per hour of the demo"
    )
    print("2. bytes per event, per kind (table + time index, measured in that file):")
    per_kind = bytes_per_kind(path)
    for kind, value in per_kind.items():
        print(f"   {kind:<13}{value:8.0f} B  ({info.rows[kind]:,} rows)")
    book_encoding(events)
    print("   LIVE, default watchlist (3 symbols x 4 venues), at the rates in LIVE_RATES:")
    total = 0.0
    for kind, rate in LIVE_RATES.items():
        per_hour = rate * 3600 * per_kind.get(kind, 0.0)
        total += per_hour
        print(f"   {kind:<13}{rate:7.2f}/s  {per_hour / 1e6:8.1f} MB/h")
    books = LIVE_RATES["books"] * 3600 * per_kind.get("books", 0.0)
    month = (total - books) * 24 * 30 + books * 24 * 3
    print(
        f"   total        {total / 1e6:.0f} MB per hour, {total * 24 / 1e9:.1f} GB per day; at the default "
        f"retention (30 days, books 3 days) the file levels off near {month / 1e9:.1f} GB"
    )


def warm_up(directory: Path, days: float) -> None:
    """What a desk restart pays: the OI lookback (every 15 s) and 1-minute bars of 12 markets."""
    import random

    from liqtui.domain.events import OpenInterest, PriceBar
    from liqtui.engine import Engine
    from liqtui.storage import warm

    print(f"4. warm-up at start: {days:g} days of OI (every 15 s) and 1-minute bars, 12 markets")
    rng = random.Random(1)
    start = 1_795_000_000_000
    markets = [
        (v, s)
        for v in ("binanceusdm", "bybit", "okx", "hyperliquid")
        for s in ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
    ]
    oi = {m: 10_000.0 for m in markets}
    price = {m: 100.0 for m in markets}
    path = _fresh(directory, "warm.sqlite")
    end = start + int(days * 86_400_000)
    with Recorder(path, retention_days=0) as recorder:
        for t in range(start, end, 15_000):
            for venue, symbol in markets:
                m = (venue, symbol)
                oi[m] *= 1 + rng.gauss(0, 0.001)
                price[m] *= 1 + rng.gauss(0, 0.001)
                recorder.add(OpenInterest(venue, symbol, oi[m], oi[m] * price[m], t))
                if (t - start) % 60_000 == 0:
                    p = price[m]
                    recorder.add(PriceBar(venue, symbol, t, p, p * 1.001, p * 0.999, p))

    class Null:
        def apply(self, event: object) -> None:
            pass

    t0 = time.perf_counter()
    count = warm(Null(), path, end)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm(Engine(), path, end)
    engine_s = time.perf_counter() - t0
    per_day = 30 / days
    print(
        f"   {count:,} events: read {read_s:.2f} s, read + Engine.apply {engine_s:.2f} s "
        f"-> a 30-day lookback: ~{read_s * per_day:.0f} s to read, ~{engine_s * per_day:.0f} s with the engine"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--dir", default=None, help="where the files go (default: a temporary dir)")
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="liqtui-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(
        f"liqtui storage bench: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, files in {directory}"
    )
    write_rate(directory, 5 if args.quick else 20)
    one_hour(directory, 300 if args.quick else 3600)
    warm_up(directory, 0.5 if args.quick else 3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
