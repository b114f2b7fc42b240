"""The liquidation tape: newest on top, bursts folded, big ones standing out, sampled venues marked.

Reads ``view.tape`` (newest first, all symbols, already bounded by the engine). Only as many entries
as the pane has lines are ever formatted, so 2,000 liquidations a second cost one fold over the
newest events per tick, not one repaint per event.

A burst is several liquidations of the same symbol and side within ``BURST_MS`` of the newest one,
on any venues: it folds into one line such as ``14 x BTC LONGS $4.2M in 2 s  BIN BYB``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.reactive import reactive

from liqtui.domain.events import Liquidation, Side
from liqtui.engine.views import SymbolView
from liqtui.ui.widgets import format as fmt
from liqtui.ui.widgets.base import LinePane, Part

BURST_MS = 2_000
BURST_MIN = 3  # fewer than this stay as single lines: two liquidations are not a burst
SAMPLED_MARK = "~"


@dataclass(frozen=True, slots=True)
class TapeEntry:
    """One tape line: a single liquidation (count 1) or a folded burst."""

    time: int  # newest event's time
    first_time: int  # oldest event's time in the entry
    symbol: str
    side: Side
    venues: tuple[str, ...]
    sampled_venues: tuple[str, ...]  # venues whose events here came from a sampled stream
    price: float  # the newest event's price
    usd: float
    count: int


def _entry(events: Sequence[Liquidation]) -> TapeEntry:
    newest = events[0]
    return TapeEntry(
        time=newest.time,
        first_time=events[-1].time,
        symbol=newest.symbol,
        side=newest.side,
        venues=tuple(sorted({e.venue for e in events}, key=fmt.venue_sort_key)),
        sampled_venues=tuple(sorted({e.venue for e in events if e.sampled}, key=fmt.venue_sort_key)),
        price=newest.price,
        usd=sum(e.usd for e in events),
        count=len(events),
    )


def fold_tape(
    events: Iterable[Liquidation], limit: int, burst_ms: int = BURST_MS, burst_min: int = BURST_MIN
) -> list[TapeEntry]:
    """Fold newest-first events into at most ``limit`` entries, folding bursts (same symbol and side, any venue).

    Walking newest to oldest, an event joins the open group of its symbol and side while it is within
    ``burst_ms`` of that group's newest event; each group keeps the place of its newest event. Groups
    of ``burst_min`` or more become one line, smaller ones stay as single lines.
    """
    groups: list[list[Liquidation]] = []
    open_group: dict[tuple[str, Side], list[Liquidation]] = {}
    for event in events:
        key = (event.symbol, event.side)
        group = open_group.get(key)
        if group is not None and group[0].time - event.time <= burst_ms:
            group.append(event)
            continue
        if len(groups) >= limit and _complete(groups, limit, event.time, burst_ms):
            break
        group = [event]
        open_group[key] = group
        groups.append(group)
    entries: list[TapeEntry] = []
    for group in groups:
        if len(group) >= burst_min:
            entries.append(_entry(group))
        else:
            entries.extend(_entry([event]) for event in group)
        if len(entries) >= limit:
            break
    return entries[:limit]


def _complete(groups: list[list[Liquidation]], limit: int, now_time: int, burst_ms: int) -> bool:
    """True when the first ``limit`` groups can no longer grow: every one is older than a burst window.

    Groups are opened newest first, so the ``limit``-th group is the youngest that must be closed.
    """
    return groups[limit - 1][0].time - now_time > burst_ms


class TapePane(LinePane):
    """Liquidations as they print, newest on top."""

    PANE_TITLE = "Liquidations"

    min_usd: reactive[float] = reactive(0.0)
    """Hide liquidations below this notional."""
    big_usd: reactive[float] = reactive(100_000.0)
    """Liquidations (or bursts) at or above this notional stand out."""
    current_only: reactive[bool] = reactive(False)
    """Only the view's symbol, else every market."""

    def watch_min_usd(self) -> None:
        self._settings_changed()

    def watch_big_usd(self) -> None:
        self._settings_changed()

    def watch_current_only(self) -> None:
        self._settings_changed()

    def on_resize(self) -> None:
        self._settings_changed()  # more or fewer lines to fill

    def displayed(self, view: SymbolView):
        limit = max(1, self.size.height)
        events: Iterable[Liquidation] = view.tape
        # Generators, not copies: the fold stops reading once the pane is full.
        if self.current_only:
            events = (e for e in events if e.symbol == view.symbol)
        if self.min_usd > 0:
            events = (e for e in events if e.usd >= self.min_usd)
        entries = tuple(fold_tape(events, limit))
        sampled_venues = tuple(sorted({v for e in entries for v in e.sampled_venues}, key=fmt.venue_sort_key))
        scope = fmt.base_coin(view.symbol) if self.current_only else "all markets"
        return (entries, sampled_venues, scope, self.min_usd, self.big_usd)

    def update_titles(self) -> None:
        _, sampled_venues, scope, min_usd, big_usd = self._shown
        self.set_titles(self._title(sampled_venues, scope, min_usd, big_usd))

    @staticmethod
    def _title(sampled_venues: tuple[str, ...], scope: str, min_usd: float, big_usd: float) -> str:
        title = f"Liquidations · {scope}"
        if min_usd > 0:
            title += f" ≥ {fmt.usd(min_usd)}"
        title += f" · ! ≥ {fmt.usd(big_usd)}"
        if sampled_venues:
            names = "/".join(fmt.venue_name(v) for v in sampled_venues)
            title += f" · {SAMPLED_MARK} sampled: {names} push ≤1 per symbol per second"
        return title

    def draw(self, width: int, height: int) -> list[list[Part]]:
        entries, _, _, min_usd, big_usd = self._shown
        if not entries:
            return [[("no liquidations yet" + (f" ≥ {fmt.usd(min_usd)}" if min_usd > 0 else ""), "pane--dim")]]
        return [self._line(entry, big_usd, width) for entry in entries]

    def _line(self, entry: TapeEntry, big_usd: float, width: int) -> list[Part]:
        big = entry.usd >= big_usd
        side_style = "pane--long" if entry.side is Side.LONG else "pane--short"
        tags = " ".join(fmt.venue_tag(v) + (SAMPLED_MARK if v in entry.sampled_venues else "") for v in entry.venues)
        coin = fmt.base_coin(entry.symbol)
        parts: list[Part] = [("!" if big else " ", "pane--big" if big else None)]
        parts.append((fmt.hhmmss(entry.time) + " ", "pane--dim"))
        if entry.count == 1:
            parts.append((tags.ljust(5), None))
            parts.append((coin.ljust(5)[:5] + " ", None))
            parts.append((fmt.side_word(entry.side).ljust(6), side_style))
            if width >= 44:
                parts.append((fmt.price(entry.price).rjust(10) + " ", None))
            parts.append((fmt.usd(entry.usd).rjust(7), "pane--big" if big else side_style))
        else:
            seconds = max(1, round((entry.time - entry.first_time) / 1000))
            text = f"{entry.count} x {coin} {fmt.side_word(entry.side, plural=True).lower()} "
            parts.append((text, side_style))
            parts.append((fmt.usd(entry.usd), "pane--big" if big else side_style))
            parts.append((f" in {seconds} s  {tags}", None))
        return parts

