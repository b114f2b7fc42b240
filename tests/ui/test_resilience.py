"""Failures stay local: a failing source, engine or pane is reported once and the desk stays up;
a live desk that hears from no venue offers the demo instead of switching to it silently."""

from __future__ import annotations

import liqtui.ui.app as desk_app
from liqtui.domain.events import FeedState, FeedStatus, Ticker
from liqtui.ui.screens import OfferDemoScreen

from desk_fakes import FakeSource
from desk_helpers import make_app, notifications, wait_for


async def test_a_failing_source_is_reported_and_the_desk_stays_up():
    app = make_app()
    app.source.fail_with = ConnectionError("venue exploded")
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: any("source stopped" in n for n in notifications(app)))
        assert app.is_running
        assert any("source stopped" in n and "venue exploded" in n for n in notifications(app))
        await pilot.press("right_square_bracket")
        assert app.symbol == "ETH/USDT:USDT"


async def test_an_engine_error_in_the_tick_is_reported_once_and_the_next_tick_works():
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        app.engine.fail_views = 3
        for _ in range(4):
            app.render_tick()
        await pilot.pause()
        errors = [n for n in notifications(app) if "could not be updated" in n]
        assert len(errors) == 1 and "engine hiccup" in errors[0]
        assert app.last_view is not None and app.is_running


async def test_a_failing_pane_does_not_stop_the_others():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        tape = app.query_one("#tape")

        def broken(view):
            raise ValueError("tape bug")

        tape.show = broken
        ladder = app.query_one("#ladder")
        ladder_show, ladder_views = ladder.show, []

        def recording(view):
            ladder_views.append(view)
            ladder_show(view)

        ladder.show = recording
        app.render_tick()
        app.render_tick()
        await pilot.pause()
        assert len([n for n in notifications(app) if "tape pane failed" in n]) == 1
        assert len(ladder_views) >= 2  # the ladder, after the tape in no order, still drew
        assert ladder_views[-1] is app.last_view


async def test_an_event_the_engine_rejects_is_skipped_and_the_stream_goes_on():
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()

        def picky(event):
            if isinstance(event, Ticker):
                raise ValueError("bad ticker")
            app.engine.applied.append(event)

        app.engine.apply = picky
        status = FeedStatus("bybit", FeedState.LIVE, 1)
        app.source.queue.put_nowait(Ticker("bybit", "BTC/USDT:USDT", 1, last=1.0))
        app.source.queue.put_nowait(status)
        assert await wait_for(pilot, lambda: status in app.engine.applied)
        assert len([n for n in notifications(app) if "skipped" in n]) == 1


def _offer_shown(app) -> bool:
    """The offer is on screen with its words mounted (the screen is pushed before its children)."""
    return isinstance(app.screen, OfferDemoScreen) and bool(app.screen.query("#offer-reason"))


async def test_a_silent_live_desk_offers_the_demo_and_switches_only_when_asked(monkeypatch):
    monkeypatch.setattr(desk_app, "OFFER_DEMO_AFTER_S", 0.2)
    demo = FakeSource(mode="DEMO")
    recorded = []

    class Recorder:
        error = None

        def add(self, event):
            recorded.append(event)

        def flush(self):
            pass

    app = make_app(mode="LIVE", demo=lambda: demo, recorder=Recorder())
    app.engine.feeds = (
        FeedStatus("bybit", FeedState.CONNECTING, 0),
        FeedStatus("okx", FeedState.RECONNECTING, 0, "attempt 2, next try in 4 s"),
    )
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: _offer_shown(app))
        assert app.source.mode == "LIVE"  # nothing changes until the user says so
        reason = str(app.screen.query_one("#offer-reason").render())
        assert "No venue has answered" in reason and "OKX: reconnecting attempt 2" in reason
        await pilot.press("d")
        await pilot.pause()
        assert app.source is demo
        assert app.recorder is None  # simulated data never goes into the live recording
        seen = app.events_seen
        demo.queue.put_nowait(Ticker("bybit", "BTC/USDT:USDT", 1, last=1.0))
        assert await wait_for(pilot, lambda: app.events_seen > seen)
        assert not recorded
        app.render_tick()
        assert "DEMO" in app.query_one("#header").text


async def test_a_live_desk_that_hears_data_does_not_offer_the_demo(monkeypatch):
    monkeypatch.setattr(desk_app, "OFFER_DEMO_AFTER_S", 0.3)
    app = make_app(mode="LIVE", demo=lambda: FakeSource())
    async with app.run_test(size=(120, 30)) as pilot:
        app.source.queue.put_nowait(Ticker("bybit", "BTC/USDT:USDT", 1, last=1.0))
        assert await wait_for(pilot, lambda: app.data_seen)
        await pilot.pause(0.6)
        assert not isinstance(app.screen, OfferDemoScreen)
        assert app.source.mode == "LIVE"


async def test_keep_waiting_leaves_the_live_source_running(monkeypatch):
    monkeypatch.setattr(desk_app, "OFFER_DEMO_AFTER_S", 0.2)
    app = make_app(mode="LIVE", demo=lambda: FakeSource())
    app.engine.feeds = ()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: _offer_shown(app))
        await pilot.press("w")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, OfferDemoScreen))
        assert app.source.mode == "LIVE"


DNS = (
    "cannot load markets: DNS failed (ExchangeNotAvailable: {} GET https://x/exchangeInfo); retry 4 in 8.0 s"
)


async def test_the_demo_offer_says_why_in_words_and_for_how_long(monkeypatch):
    monkeypatch.setattr(desk_app, "OFFER_DEMO_AFTER_S", 0.2)
    app = make_app(mode="LIVE", demo=lambda: FakeSource())
    app.engine.feeds = tuple(
        FeedStatus(v, FeedState.DOWN, 0, DNS.format(v)) for v in ("binanceusdm", "bybit", "okx")
    )
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: _offer_shown(app))
        reason = str(app.screen.query_one("#offer-reason").render())
        assert reason.startswith("No venue has answered for ") and "DNS failed at every venue" in reason, (
            reason
        )
        assert "Binance: down cannot load markets: DNS failed" in reason
        assert "ExchangeNotAvailable" not in reason and "retry" not in reason  # no exception text, no counter


async def test_after_keep_waiting_the_offer_does_not_nag(monkeypatch):
    monkeypatch.setattr(desk_app, "OFFER_DEMO_AFTER_S", 0.2)
    app = make_app(mode="LIVE", demo=lambda: FakeSource())
    app.engine.feeds = (FeedStatus("bybit", FeedState.DOWN, 0, DNS.format("bybit")),)
    asked_again: list[float] = []
    set_timer = app.set_timer

    def recording_set_timer(delay, callback, *args, **kwargs):
        if getattr(callback, "__name__", "") == "_check_reachable":
            asked_again.append(delay)
        return set_timer(delay, callback, *args, **kwargs)

    monkeypatch.setattr(app, "set_timer", recording_set_timer)
    async with app.run_test(size=(120, 30)) as pilot:
        for again in (2.0, 4.0):  # 10x the first wait, then twice that (the old desk: 2x, every time)
            assert await wait_for(
                pilot, lambda: _offer_shown(app), timeout=30
            )  # the 4 s wait, on a loaded machine
            words = " ".join(str(s.render()) for s in app.screen.query("Static"))
            assert f"keep waiting for the venues (asked again in {again:.0f}s)" in words, words
            await pilot.press("w")
            assert await wait_for(pilot, lambda: not isinstance(app.screen, OfferDemoScreen))
            assert asked_again[-1] == again
        assert app.source.mode == "LIVE"
