"""The desk's header: what is shown, in which mode, and how healthy each venue's feed is.

Line 1: mode badge (LIVE / DEMO / REPLAY with its clock and speed, PAUSED), symbol, last and mark,
24h change, OI-weighted funding per 8 h with the lead venue's countdown to its next funding
("fund +0.0100 %/8h BIN in 3h12m"), total open interest.
Line 2: one chip per venue: its feed state and the age of its last message ("stale 42s"), and why
it is down or reconnecting when the feed says ("down: DNS", "reconnecting: refused"). A desk on a
bus has a chip for the bus first: "Bus collector <5s", "Bus reconnecting (attempt 3: connection
refused)", "Bus stale: collector silent for 35 s", and "2 undecodable" when messages were skipped.
The header repaints only when the text it would show changes (ages tick once a second).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget, _RenderCache

from liqtui.domain import format as fmt
from liqtui.domain.events import FeedState, FeedStatus
from liqtui.engine.views import SymbolView
from liqtui.feeds.event_source import BusHealth
from liqtui.ui.widgets.feed_health import short_reason

Span = tuple[str, str]  # (text, style)

_STATE_STYLE = {
    FeedState.LIVE: "$success",
    FeedState.CONNECTING: "$warning",
    FeedState.RECONNECTING: "$warning",
    FeedState.STALE: "$stale",
    FeedState.DOWN: "$error",
}
_STATE_RANK = {  # worse is higher
    FeedState.LIVE: 0,
    FeedState.CONNECTING: 1,
    FeedState.STALE: 2,
    FeedState.RECONNECTING: 3,
    FeedState.DOWN: 4,
}


@dataclass(frozen=True)
class Badge:
    """What the mode badge says; built by the app on every tick."""

    mode: str  # "LIVE" | "DEMO" | "REPLAY"
    paused: bool = False
    clock_ms: int | None = None  # replay clock
    speed: float | None = None  # replay speed
    replay_paused: bool = False
    recorded: str | None = None  # replay: "LIVE" or "DEMO", what the recording holds
    recording: bool = False  # the desk writes every event to its recording
    recording_off: bool = False  # the desk was to record but cannot (file locked, disk full)
    warmup: float | None = None  # replay catching up to clock_ms: the share done


def display_symbol(symbol: str) -> str:
    """BTC/USDT:USDT -> "BTC/USDT perp"; other symbols as they are."""
    market, _, settle = symbol.partition(":")
    if settle and market.endswith("/" + settle):
        return f"{market} perp"
    return symbol


FRESH_MS = 5_000


def chip_age(ms: int) -> str:
    """The age on a venue chip: "<5s" while fresh, then the age itself ("7s", "3m").

    A fresh feed's age flips between 0s and 1s on every tick; showing "<5s" says the same and
    keeps the header from repainting (bytes over SSH) when nothing a trader cares about changed.
    """
    return "<5s" if ms < FRESH_MS else fmt.age(ms)


def fmt_countdown(ms: int) -> str:
    minutes = max(0, ms) // 60_000
    return f"{minutes // 60}h{minutes % 60:02d}m"


def fmt_clock(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def badge_spans(badge: Badge) -> list[Span]:
    style = {"LIVE": "bold reverse $success", "DEMO": "bold reverse $warning"}.get(
        badge.mode, "bold reverse $accent"
    )
    spans: list[Span] = [(f" {badge.mode} ", style)]
    if badge.mode != "REPLAY" and badge.warmup is not None:
        spans.append((f" building history {badge.warmup * 100:.0f} %", "bold $warning"))
    if badge.mode == "REPLAY":
        if badge.recorded == "DEMO":
            spans.append((" of DEMO data", "bold $warning"))
        if badge.warmup is not None:
            spans.append((f" warming up {badge.warmup * 100:.0f} % to", "bold $warning"))
        if badge.clock_ms is not None:
            spans.append((f" {fmt_clock(badge.clock_ms)}", "bold"))
        if badge.speed is not None:
            spans.append((f" x{badge.speed:g}" if badge.speed > 0 else " as fast as it reads", "bold"))
        if badge.replay_paused:
            spans.append((" (stopped)", "bold $warning"))
    if badge.recording:
        spans.append((" REC", "bold $error"))
    elif badge.recording_off:
        spans.append((" REC OFF", "bold $warning"))
    if badge.paused:
        spans.append((" ", ""))
        spans.append((" PAUSED ", "bold reverse $error"))
    return spans


Piece = tuple[int, tuple[Span, ...]]  # (priority: higher is dropped first when narrow, spans)


def market_pieces(view: SymbolView) -> list[Piece]:
    market = view.market
    pieces: list[Piece] = [
        (0, ((f"  {display_symbol(view.symbol)}", "bold"),)),
        (0, ((f"  {fmt.price(market.last)}", "bold"),)),
        (5, ((f"  mark {fmt.price(market.mark)}", ""),)),
    ]
    change = market.change_24h_pct
    if change is not None:
        pieces.append((1, (("  24h ", "dim"), (fmt.pct(change, 2), "$bid" if change >= 0 else "$ask"))))
    if market.funding_rate_oi_weighted is not None:
        rate = fmt.funding(market.funding_rate_oi_weighted, market.funding_basis_hours)
        pieces.append((3, (("  fund ", "dim"), (rate, ""))))
        if market.next_funding_time is not None:
            countdown = fmt_countdown(market.next_funding_time - view.now)
            whose = f" {fmt.venue_tag(market.next_funding_venue)}" if market.next_funding_venue else ""
            pieces.append((4, ((f"{whose} in {countdown}", "dim"),)))
    pieces.append((2, (("  OI ", "dim"), (fmt.usd(market.total_oi_usd), "bold"))))
    return pieces


def fit(pieces: list[Piece], width: int) -> list[Span]:
    """Drop the least important pieces until the line fits ``width`` (order is kept)."""
    kept = list(pieces)

    def length() -> int:
        return sum(len(text) for _, spans in kept for text, _ in spans)

    while length() > width and kept:
        worst = max(priority for priority, _ in kept)
        if worst == 0:
            break
        for index in range(len(kept) - 1, -1, -1):
            if kept[index][0] == worst:
                del kept[index]
                break
    return [span for _, spans in kept for span in spans]


def venue_health(
    feeds: tuple[FeedStatus, ...], last_message: Mapping[str, int] | None = None
) -> dict[str, tuple[FeedState, int | None, str]]:
    """Per venue: its state, the time of its last message, and a detail to show.

    A venue has one status per data kind. A kind that a venue does not offer at all (Hyperliquid's
    liquidations) is DOWN for good, so DOWN only counts when every kind of the venue is down;
    otherwise the worst of the other kinds speaks for the venue.
    """
    by_venue: dict[str, list[FeedStatus]] = {}
    for status in feeds:
        by_venue.setdefault(status.venue, []).append(status)
    health: dict[str, tuple[FeedState, int | None, str]] = {}
    for venue, statuses in by_venue.items():
        working = [s for s in statuses if s.state is not FeedState.DOWN] or statuses
        worst = max(
            working, key=lambda s: (_STATE_RANK[s.state], s.kind == "all")
        )  # a tie: the connection speaks
        times = [s.last_message for s in statuses if s.last_message is not None]
        if last_message and venue in last_message:
            times.append(last_message[venue])
        last = max(times, default=None)
        health[venue] = (worst.state, last, worst.detail)
    return health


def chip_pieces(
    view: SymbolView, last_message: Mapping[str, int] | None = None, *, short: bool = False
) -> list[Piece]:
    pieces: list[Piece] = []
    health = venue_health(view.feeds, last_message)
    for venue in sorted(health, key=fmt.venue_sort_key):
        state, last, detail = health[venue]
        style = _STATE_STYLE[state]
        age = "" if last is None else chip_age(view.now - last)
        if state is FeedState.LIVE:
            words = age
        elif state is FeedState.STALE:
            words = f"stale {age}".rstrip()
        else:
            reason = short_reason(detail) if state in (FeedState.DOWN, FeedState.RECONNECTING) else ""
            words = f"{state.value}: {reason}" if reason else state.value
        name = fmt.venue_tag(venue) if short else fmt.venue_name(venue)
        pieces.append(
            (
                1,
                (
                    ("● ", style),
                    (name, "bold" if state is FeedState.LIVE else style),
                    (f" {words}".rstrip() + "  ", style if state is not FeedState.LIVE else "dim"),
                ),
            )
        )
    if not pieces:
        pieces.append((0, (("no venue has reported yet", "$stale"),)))
    return pieces


def bus_piece(health: BusHealth, *, short: bool = False) -> Piece:
    """The bus's chip: its state, the collector's age, and the messages it could not decode."""
    state = health.state
    style = _STATE_STYLE[state]
    age = "" if health.collector_age_ms is None else chip_age(health.collector_age_ms)
    if state is FeedState.LIVE:
        words = f"collector {age}"
    elif state is FeedState.STALE:
        words = f"stale: {health.detail}"
    else:
        words = health.detail.removeprefix("bus ") or state.value
    spans: list[Span] = [
        ("● ", style),
        ("BUS" if short else "Bus", "bold" if state is FeedState.LIVE else style),
        (f" {words}", style if state is not FeedState.LIVE else "dim"),
    ]
    if health.undecodable:
        spans.append((f" {health.undecodable:,} undecodable", "bold $warning"))
    spans.append(("  ", ""))
    return (0, tuple(spans))


class DeskHeader(Widget):
    """Two lines at the top of the desk."""

    DEFAULT_CSS = """
    DeskHeader {
        height: 2;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: tuple[tuple[Piece, ...], ...] = ((), (), ())
        # (line, its spans) as last drawn -> its strip, and what they were drawn for (_render_content)
        self._drawn: dict[tuple[int, tuple[Span, ...]], Strip] = {}
        self._drawn_for: tuple[object, ...] = ()

    def show(
        self,
        view: SymbolView | None,
        badge: Badge,
        last_message: Mapping[str, int] | None = None,
        bus: BusHealth | None = None,
    ) -> None:
        """``last_message``: venue -> time of its newest event, for the age on each chip; ``bus``:
        the bus's health when the desk reads one (its chip comes first)."""
        first = [(0, tuple(badge_spans(badge)))] + (market_pieces(view) if view is not None else [])
        if view is None:
            chips: list[Piece] = [(0, (("waiting for data…", "$stale"),))]
            short = chips
        else:
            chips = chip_pieces(view, last_message)
            short = chip_pieces(view, last_message, short=True)
        if bus is not None:
            chips, short = [bus_piece(bus), *chips], [bus_piece(bus, short=True), *short]
        lines = (tuple(first), tuple(chips), tuple(short))
        if lines != self._lines:
            old, self._lines = self._lines, lines
            width = self.size.width
            if not width or old[0] != lines[0] and old[1:] != lines[1:]:
                self.refresh()
            else:  # one line changed (the price, or a chip's age): that line repainted
                self.refresh(Region(0, 0 if old[0] != lines[0] else 1, width, 1))

    @property
    def text(self) -> str:
        """The header as plain text at full width (tests, logs)."""
        first, chips, _ = self._lines
        return "\n".join("".join(text for text, _ in fit(list(line), 10_000)) for line in (first, chips))

    def _fitted(self, width: int) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
        """The two lines' spans at ``width``: the chips' short forms where the long ones do not fit."""
        first, chips, short = self._lines
        chip_line = fit(list(chips), width)
        if len(chip_line) < sum(len(spans) for _, spans in chips):
            chip_line = fit(list(short), width)
        return tuple(fit(list(first), width)), tuple(chip_line)

    def render(self) -> Content:
        first, chips = self._fitted(self.size.width or 80)
        return Content.assemble(*first, "\n", *chips)

    def _render_content(self) -> None:
        """Each line drawn by Textual as before, but only when its spans changed since its last
        draw: at a symbol switch the chips' line stays, at most ticks only the market line moves, and
        drawing both (Textual's Content to strips, its styles resolved) was ~1.5 ms of a switch."""
        width, height = self.size
        style = self.visual_style
        if self.text_selection is not None or height < 2:
            super()._render_content()
            return
        drawn_for = (width, style, self.app.current_theme)
        if drawn_for != self._drawn_for:
            self._drawn_for, self._drawn = drawn_for, {}
        drawn: dict[tuple[int, tuple[Span, ...]], Strip] = {}
        strips = []
        for line in enumerate(self._fitted(width)):
            strip = self._drawn.get(line)
            if strip is None:  # after y blank lines: each cell's offset (its meta) names its line
                y, spans = line
                strip = Visual.to_strips(self, Content.assemble("\n" * y, *spans), width, y + 1, style)[y]
            drawn[line] = strip
            strips.append(strip)
        self._drawn = drawn
        blank = Strip.blank(width, style.rich_style)
        self._render_cache = _RenderCache(self.size, strips + [blank] * (height - len(strips)))
        self._dirty_regions.clear()
