"""The liquidation tape: newest on top, bursts folded, big ones standing out, sampled venues marked.

Reads ``view.tape_rows``: the engine filters liquidations by the pane's minimum size and scope
before its cap and folds bursts into rows as they arrive (``liqtui.engine.tape``), so a cascade of
thousands a second fills the pane with rows and never pushes out the big prints. The pane tells the
engine its filter through the app each tick; a view folded for another filter (or none) is folded
here from ``view.tape``. Only as many rows as the pane has lines are drawn.

A burst reads ``14 x BTC longs $4.2M in 2 s  BIN BYB``. Venues report different prices for a
liquidation (``liqtui.domain.venues``): a bankruptcy price is marked ``†``, a fill price is not.
"""

from __future__ import annotations

from textual.reactive import reactive

from liqtui.domain import format as fmt
from liqtui.domain.events import Side
from liqtui.domain.venues import (
    LIQUIDATION_PRICE_KIND,
    PriceKind,
    liquidation_price_kind,
    samples_liquidations,
)
from liqtui.engine.tape import fold_tape
from liqtui.engine.views import SymbolView, TapeEntry, TapeFilter
from liqtui.ui.widgets.line_pane import LinePane, Part

SAMPLED_MARK = "~"
BANKRUPTCY_MARK = "†"


def price_kind_note() -> str:
    """The help screen's line on what the tape's prices are, venue by venue."""
    by_kind: dict[PriceKind, list[str]] = {}
    for venue in sorted(LIQUIDATION_PRICE_KIND, key=fmt.venue_sort_key):
        by_kind.setdefault(LIQUIDATION_PRICE_KIND[venue], []).append(fmt.venue_name(venue))
    fill = ", ".join(by_kind.get(PriceKind.FILL, []))
    bankrupt = ", ".join(by_kind.get(PriceKind.BANKRUPTCY, []))
    return (
        f"Tape prices: {fill}: fill price; {bankrupt}: bankruptcy price, marked {BANKRUPTCY_MARK} "
        "(where the position's margin is zero, beyond where it filled)."
    )


def _bankruptcy(entry: TapeEntry) -> bool:
    return entry.count == 1 and liquidation_price_kind(entry.venues[0]) is PriceKind.BANKRUPTCY


# (rows, the sampled venues among them, scope words, minimum USD, big USD)
_TapeSlice = tuple[tuple[TapeEntry, ...], tuple[str, ...], str, float, float]


class TapePane(LinePane[_TapeSlice]):
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

    def tape_filter(self, symbol: str) -> TapeFilter:
        """What this pane shows while ``symbol`` is the desk's symbol."""
        return TapeFilter(self.min_usd, symbol if self.current_only else None)

    def displayed(self, view: SymbolView) -> _TapeSlice:
        limit = max(1, self.size.height)
        wanted = self.tape_filter(view.symbol)
        rows = view.tape_rows
        if rows is not None and rows.filter == wanted:
            entries = rows.entries[:limit]
        else:  # folded for another filter (or not by an engine): fold the raw liquidations held
            entries = tuple(fold_tape(view.tape, limit, wanted))
        sampled_venues = tuple(sorted({v for e in entries for v in e.sampled_venues}, key=fmt.venue_sort_key))
        scope = fmt.base_coin(view.symbol) if self.current_only else "all markets"
        return (entries, sampled_venues, scope, self.min_usd, self.big_usd)

    def update_titles(self) -> None:
        entries, sampled_venues, scope, min_usd, big_usd = self._shown
        marked = any(_bankruptcy(entry) for entry in entries)
        self.fit_title(*self._title_texts(sampled_venues, scope, min_usd, big_usd, marked))

    @staticmethod
    def _title_texts(
        sampled_venues: tuple[str, ...], scope: str, min_usd: float, big_usd: float, marked: bool
    ) -> tuple[str, ...]:
        """The title, longest first; narrower ones drop the notes, never the minimum size shown."""
        at_least = f" ≥ {fmt.usd(min_usd)}" if min_usd > 0 else ""
        head = f"Liquidations · {scope}{at_least} · ! ≥ {fmt.usd(big_usd)}"
        bankrupt = (
            (f" · {BANKRUPTCY_MARK} bankruptcy price", f" · {BANKRUPTCY_MARK} bankruptcy")
            if marked
            else ("", "")
        )
        names = "/".join(fmt.venue_name(v) for v in sampled_venues if samples_liquidations(v))
        partial = "/".join(fmt.venue_name(v) for v in sampled_venues if not samples_liquidations(v))
        why = "; ".join(
            filter(
                None,
                (
                    f"{names} push ≤1 per symbol per second" if names else "",
                    f"{partial} partial" if partial else "",
                ),
            )
        )
        sampled = (
            (
                f" · {SAMPLED_MARK} sampled: {why}",
                f" · {SAMPLED_MARK} sampled: {'/'.join(filter(None, (names, partial)))}",
                f" · {SAMPLED_MARK} sampled",
            )
            if sampled_venues
            else ("", "", "")
        )
        short_scope = "all" if scope == "all markets" else scope
        return (
            head + bankrupt[0] + sampled[0],
            head + bankrupt[0] + sampled[1],
            head + bankrupt[1] + sampled[2],
            head,
            f"Liquidations · {scope}{at_least}",
            f"Tape · {short_scope}{at_least}",
            f"Tape{at_least}",
        )

    def draw(self, width: int, height: int) -> list[list[Part]]:
        entries, _, _, min_usd, big_usd = self._shown
        if not entries:
            return [
                [("no liquidations yet" + (f" ≥ {fmt.usd(min_usd)}" if min_usd > 0 else ""), "pane--dim")]
            ]
        return [self._line(entry, big_usd, width) for entry in entries]

    def _line(self, entry: TapeEntry, big_usd: float, width: int) -> list[Part]:
        big = entry.usd >= big_usd
        side_style = "pane--long" if entry.side is Side.LONG else "pane--short"
        venues = sorted(entry.venues, key=fmt.venue_sort_key)
        tag_list = [fmt.venue_tag(v) + (SAMPLED_MARK if v in entry.sampled_venues else "") for v in venues]
        tags = " ".join(tag_list)
        coin = fmt.base_coin(entry.symbol)
        parts: list[Part] = [("!" if big else " ", "pane--big" if big else None)]
        parts.append((fmt.hhmmss(entry.time) + " ", "pane--dim"))
        if entry.count == 1:
            parts.append((tags.ljust(5), None))
            parts.append((coin.ljust(5)[:5] + " ", None))
            parts.append((fmt.side_word(entry.side).ljust(6), side_style))
            if width >= 44:
                mark = BANKRUPTCY_MARK if _bankruptcy(entry) else " "
                parts.append((fmt.price(entry.price).rjust(10) + mark, None))
            parts.append((fmt.usd(entry.usd).rjust(7), "pane--big" if big else side_style))
        else:
            seconds = max(1, round((entry.time - entry.first_time) / 1000))
            text = f"{entry.count} x {coin} {fmt.side_word(entry.side, plural=True).lower()} "
            parts.append((text, side_style))
            parts.append((fmt.usd(entry.usd), "pane--big" if big else side_style))
            span = f" in {seconds} s"
            room = width - sum(len(text) for text, _ in parts) - len(span) - 2
            venue_words = (" ".join(tag_list[:n]) for n in range(len(tag_list), -1, -1))  # drop whole tags
            parts.append((span + "  " + fmt.fitting(venue_words, room), None))
        return parts
