"""The price ladder: centred current price, depth and ESTIMATED heat, clusters, sweeps, cheap repaints."""

from __future__ import annotations

from liqtui.engine.views import LevelRow
from liqtui.ui.widgets import LadderPane

from widget_fixtures import PRICE, PaneApp, empty_view, lines_of, replace, run_busy_demo


def _row_text(pane: LadderPane, price: float) -> str:
    if price not in pane.visible_prices():
        pane.scroll_to_price(price)
    return pane.render_line(pane.visible_prices().index(price) + 1).text


async def test_current_price_row_is_centred_and_marked(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(100, 31)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        centre = 1 + pane.body_height // 2
        assert "▶82,800◀" in lines[centre]
        assert pane.visible_prices()[pane.body_height // 2] == PRICE
        assert "ESTIMATED" in lines[0] and "bid" in lines[0] and "ask" in lines[0]
        assert "ESTIMATED" in pane.border_title and "BIN BYB OKX" in pane.border_title
        assert pane.border_subtitle.startswith("step 100")


async def test_rows_show_book_sizes_heat_clusters_and_sweeps(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(110, 61)) as pilot:
        pane.show(view)
        await pilot.pause()
        bid_row = _row_text(pane, 82_600.0)
        assert "30.1" in bid_row and "█" in bid_row
        assert "9.2" in _row_text(pane, 82_800.0)
        # The three largest short clusters carry their USD and a mark; a smaller row does not get the mark.
        assert "◆ S $2.0B" in _row_text(pane, 92_000.0)
        assert "◆ S $1.5B" in _row_text(pane, 88_000.0)
        assert "◆" not in _row_text(pane, 84_000.0) and "S $800M" in _row_text(pane, 84_000.0)
        assert "◆ L $500M" in _row_text(pane, 70_000.0)
        assert "◆" not in _row_text(pane, 82_000.0) and "L $150M" in _row_text(pane, 82_000.0)
        # Swept levels: the consumed estimate and the realized USD seen there, in dimmed style.
        swept = _row_text(pane, 83_000.0)
        assert "swept L $450M, real $30.0M" in swept
        line = pane.render_line(pane.visible_prices().index(83_000.0) + 1)
        assert any("swept" in seg.text and seg.style.dim for seg in line)
        assert any("83,000" in seg.text and seg.style.dim for seg in line)  # the swept price is dimmed too


async def test_follow_keeps_price_centred_and_scrolling_stops_following(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(80, 21)) as pilot:
        pane.show(view)
        await pilot.pause()
        middle = pane.body_height // 2
        moved = replace(view, levels=replace(view.levels, price=84_050.0))
        pane.show(moved)
        await pilot.pause()
        assert pane.visible_prices()[middle] == 84_000.0
        assert "▶84,000◀" in lines_of(pane)[1 + middle]

        pane.focus()
        await pilot.press("pagedown")
        assert pane.follow is False
        shown = pane.visible_prices()
        pane.show(replace(view, levels=replace(view.levels, price=82_850.0)))
        await pilot.pause()
        assert pane.visible_prices() == shown  # the user's scroll position holds
        assert "scroll" in pane.border_subtitle

        await pilot.press("home")
        assert pane.follow is True
        assert pane.visible_prices()[middle] == 82_800.0


async def test_a_new_symbol_or_step_starts_centred_again(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(80, 21)) as pilot:
        pane.show(view)
        await pilot.pause()
        pane.scroll_to_price(90_000.0)
        assert pane.follow is False
        finer = replace(view, levels=replace(view.levels, grid=50.0), book=replace(view.book, grid=50.0))
        pane.show(finer)
        await pilot.pause()
        assert pane.follow is True
        assert pane.visible_prices()[pane.body_height // 2] == 82_800.0
        assert pane.border_subtitle.startswith("step 50")


async def test_identical_view_does_not_refresh_and_one_row_change_repaints_one_line(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(100, 31)) as pilot:
        pane.show(view)
        await pilot.pause()
        calls: list[tuple] = []
        original = pane.refresh
        pane.refresh = lambda *regions, **kw: (calls.append(regions), original(*regions, **kw))[1]
        pane.show(replace(view))  # equal but not the same object
        assert calls == []

        bids = ((82_700.0, 12.5), (82_600.0, 55.0), (82_500.0, 8.0))  # one row grows: a new depth maximum
        deeper = replace(view, book=replace(view.book, bids=bids))
        pane.show(deeper)
        assert len(calls) == 1, "one coalesced refresh per show"
        (regions,) = calls
        assert regions and all(r.height == 1 for r in regions), "only line regions, no full repaint"
        assert len(regions) <= 6  # the changed row plus rows whose depth bar rescaled
        # Only the bid side changed: each region stops short of the ask columns.
        assert all(r.width < pane.size.width // 2 + 4 for r in regions), regions
        await pilot.pause()
        assert "55.0" in _row_text(pane, 82_600.0)

        calls.clear()
        rows = tuple(
            replace(r, short_usd=r.short_usd + 1.0) if r.price == 95_000.0 else r for r in view.levels.rows
        )  # off screen: nothing visible changes
        pane.show(replace(deeper, levels=replace(view.levels, rows=rows)))
        assert calls == []


async def test_rendered_rows_come_from_the_cache(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(100, 31)) as pilot:
        pane.show(view)
        await pilot.pause()
        first = pane.render_line(5)
        assert pane.render_line(5) is first


async def test_no_data_and_odd_rows(view):
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(60, 8)) as pilot:
        pane.show(empty_view())
        await pilot.pause()
        assert "waiting for data" in lines_of(pane)[0]
        # Levels without a book, a price outside every row, a zero-size level.
        odd = replace(
            view,
            book=replace(view.book, bids=(), asks=()),
            levels=replace(view.levels, rows=(LevelRow(50_000.0),), price=PRICE),
        )
        pane.show(odd)
        await pilot.pause()
        assert any("▶82,800◀" in line for line in lines_of(pane))


async def test_a_running_demo_market_repaints_at_most_once_per_show_and_only_what_changed():
    """The busy demo through the real engine, one view per render tick: at most one refresh call per
    show, and a screen updated only inside the refreshed regions equals the freshly drawn pane."""
    ticks = await run_busy_demo(LadderPane(), size=(90, 41))
    for tick in ticks:
        assert tick.show_calls <= 1
        assert tick.patched == tick.fresh
    partial = sum(len(regions) for tick in ticks if not tick.full for regions in tick.refreshes)
    assert partial > 0  # the market moved rows without a full repaint


# --- the note column never cuts an amount ----------------------------------------------

NOTE_ROWS = (  # near the price, so every layout shows them; amounts like the ones the medium layout cut
    LevelRow(83_200.0, long_usd=1.2e6, short_usd=54.9e6),
    LevelRow(83_100.0, short_usd=31.5e3),
    LevelRow(83_000.0, swept_long_usd=450e6, realized_usd=30e6, taped_swept_usd=450e6),
    LevelRow(82_900.0, swept_short_usd=2.4e6, realized_usd=0.0, taped_swept_usd=2.4e6),
    LevelRow(82_800.0, swept_short_usd=54.9e6, realized_usd=1.5e3, taped_swept_usd=31.5e3),  # partly watched
    LevelRow(82_700.0, swept_long_usd=54.9e6),  # no tape ran over this sweep
    LevelRow(82_600.0, long_usd=54.9e6),
    LevelRow(82_500.0, long_usd=950.0),
)


def _note_view(symbol, now_ms, **kwargs):
    """The desk's engine double's view, with the ladder rows above."""
    from desk_fakes import sample_view
    from widget_fixtures import GRID

    view = sample_view(symbol, now_ms, **{**kwargs, "grid": GRID})
    return replace(view, levels=replace(view.levels, rows=NOTE_ROWS, price=PRICE, grid=GRID))


def _row_amounts(row: LevelRow) -> set[str]:
    from liqtui.domain import format as fmt

    swept = row.swept_long_usd + row.swept_short_usd
    return {fmt.usd(x) for x in (row.long_usd, row.short_usd, swept, row.realized_usd, row.taped_swept_usd)}


async def test_ladder_notes_never_cut_an_amount_at_any_terminal_width_60_to_160():
    """The desk at every width from 60 to 160 columns (compact, medium, full): each amount in a
    ladder row is one of that row's amounts whole (never "$54.9" for "$54.9M"), and a swept row
    always says "swept"."""
    import re

    from desk_helpers import make_app

    app = make_app()
    app.engine.view = _note_view
    rows = {row.price: row for row in NOTE_ROWS}
    async with app.run_test(size=(60, 45)) as pilot:
        for width in range(60, 161):
            await pilot.resize_terminal(width, 45)
            await pilot.pause()
            app.render_tick()
            await pilot.pause()
            pane = app.screen.query_one("#ladder", LadderPane)
            prices = pane.visible_prices()
            for price, row in rows.items():
                assert price in prices, (width, price)
                line = pane.render_line(prices.index(price) + 1).text
                shown = re.findall(r"\$[0-9.,]+[kMBT]?", line)
                assert shown or "no tape" in line, (width, line)
                assert set(shown) <= _row_amounts(row), (width, line)
                if row.swept_long_usd + row.swept_short_usd:
                    assert "swept" in line, (width, line)


# --- realized only where the tape ran --------------------------------------------------


async def test_a_level_swept_before_the_tape_ran_says_no_tape_not_real_zero():
    """The real engine: levels placed and swept during the backfill (no tape yet) show "no tape";
    a sweep while the venue's liquidation feed is live shows what the tape printed there."""
    from liqtui.domain.events import FeedState, FeedStatus, Liquidation, OpenInterest, Side, Ticker
    from liqtui.engine import Engine

    btc, t0 = "BTC/USDT:USDT", 1_750_000_000_000

    def oi(base: float, t: int) -> OpenInterest:
        return OpenInterest("bybit", btc, base, base * 100.0, t)

    def dip_and_sweep(engine: Engine, start: int, base: float) -> None:
        """OI rises at 100 (longs placed below), price dips to 96 and back: the 100x-25x longs are swept."""
        for event in (
            Ticker("bybit", btc, start, last=100.0),
            oi(base, start),
            oi(base + 10.0, start + 15_000),
            Ticker("bybit", btc, start + 20_000, last=96.0),
            Ticker("bybit", btc, start + 25_000, last=100.0),
        ):
            engine.apply(event)

    engine = Engine()
    dip_and_sweep(engine, t0, 1000.0)  # the backfill: OI and prices, no liquidation feed yet
    engine.apply(oi(1010.0, t0 + 30_000))
    live = t0 + 60_000
    engine.apply(FeedStatus("bybit", FeedState.LIVE, live, kind="all"))

    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(80, 40)) as pilot:
        pane.show(engine.view(btc, live + 1_000, grid=1.0))
        await pilot.pause()
        swept = [line for line in lines_of(pane) if "swept" in line]
        assert swept, lines_of(pane)
        assert all("no tape" in line and "real" not in line for line in swept), swept

        # Live now: new longs, the same dip, and the tape prints $97 at 98.3, in a swept row.
        dip_and_sweep(engine, live + 1_000, 1010.0)
        engine.apply(Liquidation("bybit", btc, Side.LONG, 98.3, 1.0, 97.0, live + 22_000, live + 22_000))
        engine.apply(oi(1020.0, live + 31_000))
        pane.show(engine.view(btc, live + 31_000, grid=1.0))
        await pilot.pause()
        swept = [line for line in lines_of(pane) if "swept" in line]
        assert any("real $97 of $" in line for line in swept), swept  # compared with the watched sweep only
        assert not any("no tape" not in line and "of $" not in line for line in swept), swept


async def test_the_book_columns_say_their_unit_where_there_is_room(view):
    """The bid and ask sizes (30.1, 9.2) are coins, summed over venues: the header says which coin,
    or drops the coin whole where it has no room (never "bid BT")."""
    for width in (100, 50, 36):
        pane = LadderPane()
        async with PaneApp(pane).run_test(size=(width, 31)) as pilot:
            pane.show(view)
            await pilot.pause()
            header = lines_of(pane)[0]
            words = header.split()
            assert "bid" in words and "ask" in words and not any(w in ("B", "BT") for w in words), header
            if width == 100:
                assert "bid BTC" in header and "BTC ask" in header, header


async def test_a_view_with_the_same_level_rows_sums_no_heat_again(view, monkeypatch):
    # The heat (the ESTIMATED rows summed into ladder rows, ~1.2 ms on a busy desk) depends on the
    # level rows alone, which the engine keeps as one tuple until its table changes; it was summed again
    # whenever anything else in the levels moved (the price, at most ticks).
    from liqtui.ui.widgets import ladder

    summed = []
    build_heat = ladder.build_heat
    monkeypatch.setattr(ladder, "build_heat", lambda *args: summed.append(args) or build_heat(*args))
    pane = LadderPane()
    async with PaneApp(pane).run_test(size=(100, 31)) as pilot:
        pane.show(view)
        await pilot.pause()
        assert len(summed) == 1
        moved = replace(view, levels=replace(view.levels, price=83_050.0))  # the same rows
        pane.show(moved)
        await pilot.pause()
        assert len(summed) == 1
        assert "▶83,000◀" in "".join(lines_of(pane))  # the new price drawn
        rows = tuple(replace(r, long_usd=r.long_usd * 2) for r in view.levels.rows)
        pane.show(replace(moved, levels=replace(moved.levels, rows=rows)))
        await pilot.pause()
        assert len(summed) == 2
