"""The liquidation tape: newest first, bursts folded across venues, filters, big and sampled marks."""

from __future__ import annotations

from liqtui.domain.events import Liquidation, Side
from liqtui.engine.tape import BURST_MIN, ROWS_KEPT, LiquidationTape, fold_tape
from liqtui.ui.widgets import TapePane

from widget_fixtures import BTC, NOW, PaneApp, article_view, burst, lines_of, replace


def _liq(time: int, venue: str = "bybit", symbol: str = BTC, side: Side = Side.LONG, usd: float = 10_000.0):
    return Liquidation(venue, symbol, side, 82_800.0, usd / 82_800.0, usd, time, time + 20)


def test_burst_folds_across_venues_with_total_and_span():
    events = burst(NOW, ("binanceusdm", "bybit", "okx"), count=14, usd=300_000.0)
    [entry] = fold_tape(events, limit=10)
    assert entry.count == 14 and entry.usd == 14 * 300_000.0
    assert entry.venues == ("binanceusdm", "bybit", "okx")
    assert entry.sampled_venues == ("binanceusdm", "okx")
    assert entry.time == NOW and entry.first_time == NOW - 1_300


def test_fold_keeps_sides_symbols_and_slow_events_apart():
    events = [
        _liq(NOW),
        _liq(NOW - 100, side=Side.SHORT),
        _liq(NOW - 200),
        _liq(NOW - 300, symbol="ETH/USDT:USDT"),
        _liq(NOW - 400),
        _liq(NOW - 5_000),  # too late for the burst: its own line
    ]
    entries = fold_tape(events, limit=10)
    assert [(e.symbol, e.side, e.count) for e in entries] == [
        (BTC, Side.LONG, 3),
        (BTC, Side.SHORT, 1),
        ("ETH/USDT:USDT", Side.LONG, 1),
        (BTC, Side.LONG, 1),
    ]


def test_two_events_are_not_a_burst_and_limit_is_respected():
    entries = fold_tape([_liq(NOW), _liq(NOW - 100)], limit=10)
    assert [e.count for e in entries] == [1, 1]
    many = [_liq(NOW - i * 3_000, symbol=f"C{i}/USDT:USDT") for i in range(500)]
    assert len(fold_tape(many, limit=7)) == 7


def test_a_cascade_is_folded_as_it_arrives_and_read_as_rows():
    # 2,000 liquidations a second over 300 symbols for 10 s: the engine's tape folds each one once,
    # as it arrives, keeps a bounded number of rows, and a tick with nothing new reads the same rows.
    tape = LiquidationTape()
    for i in range(20_000):
        tape.add(_liq(NOW + i // 2, symbol=f"C{i % 300}/USDT:USDT"))
    rows = tape.rows()
    assert len(rows.entries) <= 2 * ROWS_KEPT
    assert rows.entries[0].time == NOW + 9_999 and rows.entries[0].count > BURST_MIN
    assert tape.rows() is rows


async def test_tape_lines_newest_first_with_time_venue_side_price_usd(view):
    pane = TapePane()  # wide enough for the whole title (narrower ones drop its notes)
    async with PaneApp(pane).run_test(size=(130, 12)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        assert lines[0].startswith("!15:51:00 14 x BTC longs $4.2M in 1 s")
        assert "BIN~ BYB OKX~" in lines[0]
        assert "15:50:50 BYB  ETH   SHORT    2,750.5† $49.5k" in lines[1]  # Bybit: bankruptcy price
        assert lines[2].startswith("!15:50:45 BIN~ BTC   LONG") and "$249k" in lines[2]  # big: >= $100k
        assert lines[3].startswith(" 15:50:41 OKX~ SOL")
        assert "~ sampled: Binance/OKX push ≤1 per symbol per second" in pane.border_title
        assert "! ≥ $100k" in pane.border_title


async def test_big_threshold_min_filter_and_current_only(view):
    pane = TapePane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(view)
        pane.big_usd = 1_000_000.0
        await pilot.pause()
        assert not lines_of(pane)[2].startswith("!")  # $249k is no longer big
        pane.min_usd = 50_000.0
        await pilot.pause()
        text = "\n".join(lines_of(pane))
        assert "ETH" not in text and "SOL" not in text and "BTC   LONG" in text
        assert "≥ $50.0k" in pane.border_title
        pane.min_usd = 0.0
        pane.current_only = True
        await pilot.pause()
        text = "\n".join(lines_of(pane))
        assert "ETH" not in text and "SOL" not in text
        assert pane.border_title.startswith("Liquidations · BTC")


async def test_big_lines_stand_out_in_style(view):
    pane = TapePane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(view)
        await pilot.pause()
        big = pane.get_component_rich_style("pane--big")
        assert any(seg.style == big and "$249k" in seg.text for seg in pane.render_line(2))
        long_style = pane.get_component_rich_style("pane--long")
        assert any(seg.text.strip() == "LONG" and seg.style == long_style for seg in pane.render_line(2))


async def test_tape_repaints_only_when_lines_change(view):
    pane = TapePane()
    async with PaneApp(pane).run_test(size=(80, 5)) as pilot:
        pane.show(view)
        await pilot.pause()
        calls = []
        original = pane.refresh
        pane.refresh = lambda *a, **k: (calls.append(a), original(*a, **k))[1]
        pane.show(replace(view, now=view.now + 250))  # a new tick, same tape
        assert calls == []
        newer = (_liq(NOW + 9_000, usd=20_000.0),) + view.tape
        pane.show(replace(view, tape=newer))
        assert calls
        await pilot.pause()
        assert lines_of(pane)[0].startswith(" 15:51:09 BYB")


# --- a cascade never empties the tape --------------------------------------------------


async def test_a_cascade_fills_the_tape_and_a_minimum_size_still_finds_the_big_print():
    """The desk on the real engine through a cascade: 20,000 small liquidations in 20 s after one
    $301k print. Unfiltered, the tape is full of rows (bursts of 2 s); with `m` 100k it shows the
    $301k print the totals count, not "no liquidations yet"."""
    from liqtui.engine import Engine

    from desk_helpers import make_app

    app = make_app(layout="tape")
    app.engine = Engine()
    start = NOW - 25_000
    app.engine.apply(Liquidation("bybit", BTC, Side.SHORT, 82_900.0, 3.63, 301_000.0, start, start + 20))
    coins = ("BTC", "ETH", "SOL", "XRP")
    for i in range(20_000):
        side = Side.LONG if i % 2 else Side.SHORT
        app.engine.apply(
            _liq(start + 5_000 + i, symbol=f"{coins[i // 2 % 4]}/USDT:USDT", side=side, usd=500.0)
        )
    async with app.run_test(size=(100, 30)) as pilot:
        app.render_tick()
        await pilot.pause()
        pane = app.screen.query_one("#tape", TapePane)
        lines = lines_of(pane)
        assert pane.size.height >= 20 and all(" x " in line for line in lines), (
            lines
        )  # every line a burst row

        await pilot.press("m")
        await pilot.press(*"100k", "enter")
        await pilot.pause()
        app.render_tick()
        await pilot.pause()
        assert app.last_view.realized.total_short.largest_usd == 301_000.0
        assert "$301k" in lines_of(pane)[0] and "SHORT" in lines_of(pane)[0], lines_of(pane)[:3]
        assert "≥ $100k" in pane.border_title


# --- which price the tape shows -------------------------------------------------------


async def test_bankruptcy_prices_are_marked_and_the_help_screen_says_which_venue_reports_which():
    """Bybit and OKX report the bankruptcy price, Binance the fill: the tape marks the first kind,
    says so in its title, and `?` explains it for every venue."""
    from liqtui.ui.screens import HelpScreen

    from desk_fakes import sample_view
    from desk_helpers import make_app

    tape = (
        Liquidation("bybit", BTC, Side.SHORT, 82_950.0, 1.0, 82_950.0, NOW, NOW + 20),
        Liquidation("okx", BTC, Side.LONG, 82_610.0, 1.0, 82_610.0, NOW - 1_000, NOW - 980, True),
        Liquidation("binanceusdm", BTC, Side.LONG, 82_640.0, 1.0, 82_640.0, NOW - 2_000, NOW - 1_980, True),
    )
    app = make_app(layout="tape")
    app.engine.view = lambda symbol, now_ms, **kwargs: replace(
        sample_view(symbol, now_ms, **kwargs), tape=tape
    )
    async with app.run_test(size=(100, 30)) as pilot:
        app.render_tick()
        await pilot.pause()
        pane = app.screen.query_one("#tape", TapePane)
        bybit, okx, binance = lines_of(pane)[:3]
        assert "82,950†" in bybit and "82,610†" in okx
        assert "82,640 " in binance and "†" not in binance
        assert "† bankruptcy price" in pane.border_title

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        notes = str(app.screen.query_one("#help-notes").render())
        # Hyperliquid added on purpose: its backstop vault's fills
        assert (
            "Binance, Hyperliquid: fill price" in notes
            and "Bybit, OKX: bankruptcy price" in notes
            and "†" in notes
        )


async def test_a_narrow_tape_drops_whole_venue_tags_never_part_of_one():
    """A burst over three venues in a 46-column tape (the full layout's): the venue tags that do not
    fit are left out whole ("BIN~ B" was cut from "BIN~ BYB OKX~")."""
    import re

    events = burst(NOW, ("binanceusdm", "bybit", "okx"), count=20, usd=250_000.0)
    pane = TapePane()
    async with PaneApp(pane).run_test(size=(46, 4)) as pilot:
        pane.show(replace(article_view(), tape=tuple(events)))
        await pilot.pause()
        line = lines_of(pane)[0].rstrip()
        assert line.startswith("!15:51:00 20 x BTC longs $5.0M in 2 s"), line
        tags = line.split("  ", 1)[1].split() if "  " in line else []
        assert all(re.fullmatch(r"(BIN|BYB|OKX)~?", tag) for tag in tags), line


async def test_the_tape_and_ladder_titles_drop_words_never_cut_at_any_width_60_to_160():
    """Each title fits its border whole at every terminal width (Textual cuts a longer one with "…"
    mid-word); the tape's minimum size and the ladder's ESTIMATED always stay."""
    from liqtui.ui.widgets import LadderPane

    from desk_helpers import make_app

    app = make_app()
    async with app.run_test(size=(60, 40)) as pilot:
        app.screen.query_one("#tape", TapePane).min_usd = 250_000.0
        for width in range(60, 161):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            app.render_tick()
            await pilot.pause()
            for pane in (
                app.screen.query_one("#tape", TapePane),
                app.screen.query_one("#ladder", LadderPane),
            ):
                title = pane.border_title or ""
                assert len(title) <= pane.size.width - 4, (width, title)
                assert ("≥ $250k" if isinstance(pane, TapePane) else "ESTIMATED") in title, (width, title)
