"""The header: mode badge, market line, one chip per venue with its health and message age."""

from __future__ import annotations

import dataclasses

from liqtui.domain.events import FeedState, FeedStatus, Liquidation, Side, Ticker
from liqtui.ui.header import Badge, DeskHeader, badge_spans, chip_pieces, fit, market_pieces, venue_health

from desk_fakes import NOW, sample_view
from desk_helpers import make_app


def _text(spans) -> str:
    return "".join(text for text, _ in spans)


def test_badge_says_mode_replay_clock_speed_and_paused():
    assert _text(badge_spans(Badge("LIVE"))) == " LIVE "
    replay = _text(badge_spans(Badge("REPLAY", paused=True, clock_ms=NOW, speed=10.0, replay_paused=True)))
    assert "REPLAY" in replay and "2026-01-31 15:51:00 UTC" in replay and "x10" in replay
    assert "(stopped)" in replay and "PAUSED" in replay


def test_market_line_has_price_mark_change_funding_countdown_and_oi():
    text = _text(fit(market_pieces(sample_view("BTC/USDT:USDT")), 10_000))
    for words in (
        "BTC/USDT perp",
        "82,800",
        "mark 82,792",
        "24h -9.12 %",
        "fund +0.0100 %",
        "in 3h12m",
        "OI $28.4B",
    ):
        assert words in text, words


def test_a_narrow_header_drops_the_least_important_parts_first():
    pieces = market_pieces(sample_view("BTC/USDT:USDT"))
    narrow = _text(fit(pieces, 50))
    assert "BTC/USDT perp" in narrow and "82,800" in narrow
    assert "mark" not in narrow and "in 3h12m" not in narrow
    assert len(narrow) <= 50


def test_a_venue_is_down_only_when_every_kind_is_down():
    feeds = (
        FeedStatus("hyperliquid", FeedState.DOWN, 0, "no public liquidation feed", "liquidations"),
        FeedStatus("hyperliquid", FeedState.LIVE, 0, kind="oi", last_message=NOW - 3000),
        FeedStatus("okx", FeedState.DOWN, 0, "HTTP 503", "all"),
    )
    health = venue_health(feeds)
    assert health["hyperliquid"][0] is FeedState.LIVE
    assert health["okx"][0] is FeedState.DOWN


def test_chips_show_state_and_age_and_the_desk_s_own_last_message_wins():
    view = sample_view("BTC/USDT:USDT")  # okx stale since 42 s, the others 1 s
    text = _text(fit(chip_pieces(view), 10_000))
    assert "OKX stale 42s" in text and "Binance <5s" in text
    text = _text(fit(chip_pieces(view, {"okx": NOW - 5000}), 10_000))
    assert "OKX stale 5s" in text  # 5 s: no longer "fresh"
    short = _text(fit(chip_pieces(view, short=True), 10_000))
    assert "BIN" in short and "OKX stale 42s" in short


async def test_the_header_repaints_only_when_its_text_changes():
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        header = app.query_one(DeskHeader)
        calls = []
        header.refresh = lambda *a, **k: calls.append(1)  # type: ignore[method-assign]
        app.paused = True  # the app's own ticks no longer change the header
        view = sample_view("ETH/USDT:USDT")
        header.show(view, Badge("DEMO"))
        header.show(view, Badge("DEMO"))
        assert len(calls) == 1
        header.show(view, Badge("DEMO", paused=True))
        assert len(calls) == 2


async def test_the_app_tracks_each_venue_s_newest_event_for_the_chip_age():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.emit(Ticker("okx", "BTC/USDT:USDT", NOW - 2000, last=1.0))
        app.emit(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, NOW - 9000, NOW - 1000))
        app.render_tick()
        assert app.last_message["okx"] == NOW - 1000
        assert "OKX stale <5s" in app.query_one(DeskHeader).text


def test_a_replay_at_speed_zero_says_it_runs_as_fast_as_it_reads():
    assert "as fast as it reads" in _text(badge_spans(Badge("REPLAY", speed=0.0)))
    assert "of DEMO data" in _text(badge_spans(Badge("REPLAY", recorded="DEMO")))
    assert "DEMO data" not in _text(badge_spans(Badge("REPLAY", recorded="LIVE")))


def test_the_badge_says_rec_while_the_desk_records():
    assert "REC" in _text(badge_spans(Badge("LIVE", recording=True)))
    assert "REC" not in _text(badge_spans(Badge("LIVE")))


def test_funding_names_its_interval_and_whose_countdown_it_is():
    """The OI-weighted rate is per 8 h and the countdown is the lead venue's settlement."""
    import dataclasses

    view = sample_view("BTC/USDT:USDT")
    market = dataclasses.replace(view.market, funding_basis_hours=8.0, next_funding_venue="binanceusdm")
    text = _text(fit(market_pieces(dataclasses.replace(view, market=market)), 10_000))
    assert "fund +0.0100 %/8h" in text and "BIN in 3h12m" in text, text


def test_a_chip_says_why_its_venue_is_down_or_reconnecting():
    """ "down" alone left a trader guessing: the chip names the network reason in a word or two."""
    view = sample_view("BTC/USDT:USDT")
    feeds = (
        FeedStatus(
            "binanceusdm",
            FeedState.DOWN,
            0,
            "cannot load markets: DNS failed (ExchangeNotAvailable: x); retry 3 in 4.0 s",
        ),
        FeedStatus("bybit", FeedState.DOWN, 0, "cannot load markets: connection refused (NetworkError: y)"),
        FeedStatus(
            "okx", FeedState.RECONNECTING, 0, "timed out; attempt 2, next try in 1.0 s (RequestTimeout: z)"
        ),
        FeedStatus(
            "hyperliquid", FeedState.DOWN, 0, "cannot load markets: HTTP 418 IP banned for a while: /info"
        ),
    )
    view = dataclasses.replace(view, feeds=feeds)
    text = _text(fit(chip_pieces(view), 10_000))
    for words in (
        "Binance down: DNS",
        "Bybit down: refused",
        "OKX reconnecting: timeout",
        "Hyperliquid down: HTTP 418",
    ):
        assert words in text, text
    short = _text(fit(chip_pieces(view, short=True), 10_000))
    assert "BIN down: DNS" in short and "BYB down: refused" in short


def test_the_bus_chip_says_connected_with_the_collector_s_age_reconnecting_or_stale():
    from liqtui.feeds.event_source import BusHealth
    from liqtui.ui.header import bus_piece

    def chip(health: BusHealth, short: bool = False) -> str:
        return _text(bus_piece(health, short=short)[1]).strip()

    assert chip(BusHealth(FeedState.LIVE, "", 2_000)) == "● Bus collector <5s"
    assert chip(BusHealth(FeedState.LIVE, "", 12_000), short=True) == "● BUS collector 12s"
    assert (
        chip(BusHealth(FeedState.RECONNECTING, "bus reconnecting (attempt 3: connection refused)", 9_000))
        == "● Bus reconnecting (attempt 3: connection refused)"
    )
    assert (
        chip(BusHealth(FeedState.STALE, "collector silent for 35 s", 35_000))
        == "● Bus stale: collector silent for 35 s"
    )
    counted = chip(BusHealth(FeedState.LIVE, "", 1_000, undecodable=1_234, last_problem="x: not JSON"))
    assert counted == "● Bus collector <5s 1,234 undecodable"


async def test_a_desk_on_a_bus_shows_the_bus_chip_first_and_says_once_what_it_skipped():
    from liqtui.config import Settings
    from liqtui.feeds.event_source import BusHealth, OnABus
    from liqtui.ui.app import LiqtuiApp

    from desk_fakes import FakeEngine, FakeSource
    from desk_helpers import notifications

    class BusFake(FakeSource):
        health = BusHealth(FeedState.LIVE, "", 1_000)

        def bus_health(self) -> BusHealth:
            return self.health

    source = BusFake(mode="LIVE")
    assert isinstance(source, OnABus)
    app = LiqtuiApp(Settings(), source, engine=FakeEngine())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.render_tick()
        chips = app.query_one(DeskHeader).text.splitlines()[1]
        assert chips.startswith("● Bus collector <5s") and "Binance" in chips, chips
        source.health = BusHealth(
            FeedState.STALE, "collector silent for 31 s", 31_000, 2, "liqtui.liq.a.b: no 'time'"
        )
        app.render_tick()
        chips = app.query_one(DeskHeader).text.splitlines()[1]
        assert chips.startswith("● Bus stale: collector silent for 31 s 2 undecodable"), chips
        app.render_tick()
        await pilot.pause()
        said = [n for n in notifications(app) if "no liqtui event" in n]
        assert len(said) == 1 and "liqtui.liq.a.b: no 'time'" in said[0]
    plain = make_app()
    async with plain.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        plain.render_tick()
        assert "Bus" not in plain.query_one(DeskHeader).text


async def test_a_change_of_one_line_draws_that_line_alone_and_as_textual_draws_it(monkeypatch):
    # The header drew both its lines at each change (Textual's Content to strips, ~1.5 ms of a symbol
    # switch on a busy desk), though at most ticks only the market line moves and a switch between
    # symbols of the same venues keeps the chips' line.
    from textual.geometry import Region
    from textual.visual import Visual
    from textual.widget import Widget

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        header = app.query_one(DeskHeader)
        app.paused = True  # the app's own ticks no longer change the header
        whole = Region(0, 0, *header.size)
        refreshed: list[tuple] = []
        refresh = header.refresh
        monkeypatch.setattr(
            header, "refresh", lambda *regions, **kw: refreshed.append(regions) or refresh(*regions, **kw)
        )
        drawn: list[str] = []
        to_strips = Visual.to_strips.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(
            Visual,
            "to_strips",
            classmethod(
                lambda cls, widget, visual, *a, **k: (
                    drawn.append(str(visual)) or to_strips(cls, widget, visual, *a, **k)
                )
            ),
        )

        def cells() -> list[list]:
            return [list(strip) for strip in header.render_lines(whole)]  # every cell, with its style

        def textual_s() -> list[list]:
            Widget._render_content(header)  # Textual's own drawing of both lines
            header._styles_cache.clear()
            return cells()

        btc, eth = sample_view("BTC/USDT:USDT"), sample_view("ETH/USDT:USDT")
        assert btc.feeds == eth.feeds  # the same venues' chips
        header.show(btc, Badge("DEMO"))
        assert cells() == textual_s()
        drawn.clear()
        refreshed.clear()
        header.show(eth, Badge("DEMO"))
        assert refreshed == [(Region(0, 0, header.size.width, 1),)]  # the market line's row alone
        ours = cells()
        assert len(drawn) == 1 and "ETH/USDT perp" in drawn[0]
        assert ours == textual_s()
        app.theme = "textual-light"
        await pilot.pause(0.1)
        assert cells() == textual_s()
