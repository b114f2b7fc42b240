"""Realized liquidation totals per venue x side for the chosen window, with the total row.

Reads ``view.realized`` (cells per venue and side, totals, since when the tape covers) and
``view.feeds`` (to tell "no public feed" and unhealthy feeds from a quiet market). Unknown is never
zero: a venue that has delivered nothing and is not live reads "n/a" with its state. Sampled venues'
numbers are lower bounds and read "≥$30.0M", "≥$0" included; so is the total when a venue in it is
sampled or has no feed (Hyperliquid). Narrow panes drop whole words.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqtui.domain import format as fmt
from liqtui.domain.events import FeedState, Side
from liqtui.domain.venues import liquidations_are_floor, partial_note
from liqtui.engine.views import WINDOW_MS, RealizedCell, SymbolView
from liqtui.ui.widgets.feed_health import (
    feed_reason,
    liquidation_feed_state,
    no_public_liquidation_feed,
    short_reason,
)
from liqtui.ui.widgets.line_pane import LinePane, Part

LOWER_BOUND = "≥"
UNKNOWN = "n/a"
LARGEST_W = 11


@dataclass(frozen=True, slots=True)
class TotalsRow:
    label: str
    long: RealizedCell | None
    short: RealizedCell | None
    tag: str = ""  # the short venue tag, for a narrow pane
    venue: str = ""  # the venue's id ("" for the total row)
    no_feed: bool = False
    state: str | None = None  # the liquidation feed's state when it is not live ("stale", "down", ...)
    reason: str = ""  # why, in words ("cannot load markets: DNS failed")
    unknown: bool = False  # nothing delivered and not live: the figure is not known
    lower_bound: bool = False  # a sampled stream, or a total missing a venue
    is_total: bool = False
    partial: str = ""  # which part of the venue's liquidations liqtui sees (domain.venues.partial_note)


def _venue_row(venue: str, cells: dict[Side, RealizedCell], view: SymbolView) -> TotalsRow:
    status = liquidation_feed_state(venue, view.feeds)
    live = status is not None and status.state is FeedState.LIVE
    has_data = any(c.count for c in cells.values())
    state = None if status is None or live else status.state.value
    return TotalsRow(
        label=fmt.venue_name(venue),
        long=cells.get(Side.LONG),
        short=cells.get(Side.SHORT),
        tag=fmt.venue_tag(venue),
        venue=venue,
        no_feed=no_public_liquidation_feed(venue, view.feeds, has_data),
        state=state,
        reason=feed_reason(status.detail) if status is not None and not live else "",
        unknown=not has_data and (not live or view.realized.since is None),
        lower_bound=liquidations_are_floor(venue),
        partial=partial_note(venue, dict(view.realized.tracked).get(venue, 0)),
    )


def totals_rows(view: SymbolView) -> tuple[TotalsRow, ...]:
    """One row per venue (known from the realized cells or the feed statuses), then the total row."""
    by_venue: dict[str, dict[Side, RealizedCell]] = {}
    for cell in view.realized.cells:
        if cell.venue != "all":
            by_venue.setdefault(cell.venue, {})[cell.side] = cell
    venues = set(by_venue) | {status.venue for status in view.feeds if status.venue != "all"}
    rows = [_venue_row(v, by_venue.get(v, {}), view) for v in sorted(venues, key=fmt.venue_sort_key)]
    counted = [row for row in rows if not row.no_feed]
    long, short = view.realized.total_long, view.realized.total_short
    total_unknown = (
        not long.count
        and not short.count
        and (all(row.unknown for row in counted) or view.realized.since is None)
    )
    # The total misses what a sampled stream left out and all of a venue without a feed (Hyperliquid).
    lower_bound = any(row.unknown or row.lower_bound or row.no_feed for row in rows)
    rows.append(
        TotalsRow("Total", long, short, unknown=total_unknown, lower_bound=lower_bound, is_total=True)
    )
    return tuple(rows)


def _cell_usd(cell: RealizedCell | None, lower_bound: bool = False) -> str:
    usd = 0.0 if cell is None else cell.usd
    sampled = lower_bound or (cell is not None and cell.sampled)
    return (LOWER_BOUND if sampled else "") + fmt.usd(usd)


def _largest(long: RealizedCell | None, short: RealizedCell | None) -> str:
    best = max(
        (c for c in (long, short) if c is not None and c.count), key=lambda c: c.largest_usd, default=None
    )
    if best is None:
        return fmt.MISSING
    return f"{fmt.usd(best.largest_usd)} {'L' if best.side is Side.LONG else 'S'}"


def window_words(view: SymbolView) -> str:
    """ "1h", or "1h (3m so far)" while the tape has covered less than the window. Whole minutes
    ("<1m" before the first): the title is in the pane's border, and a new title repaints the pane."""
    window, since = view.realized.window, view.realized.since
    covered = None if since is None else view.now - since
    if covered is not None and covered < WINDOW_MS[window]:
        return f"{window} ({'<1m' if covered < 60_000 else fmt.age(covered)} so far)"
    return window


def _scope(view: SymbolView) -> str:
    symbol = view.realized.total_long.symbol
    return "all markets" if symbol == "all" else fmt.base_coin(symbol)


def realized_summary(view: SymbolView) -> str:
    """The total row in one line, for a layout without the pane: "Realized 4h · BTC: LONG ≥$30.0M · SHORT $4.0M · 150 liquidations"."""
    total = totals_rows(view)[-1]
    head = f"Realized {window_words(view)} · {_scope(view)}"
    if total.unknown:
        return f"{head}: {UNKNOWN} (no venue has delivered liquidations)"
    long, short = total.long, total.short
    return (
        f"{head}: LONG {_cell_usd(long, total.lower_bound)} · SHORT {_cell_usd(short, total.lower_bound)}"
        f" · {_count(total)} liquidations"
    )


def _count(row: TotalsRow) -> str:
    count = sum(c.count for c in (row.long, row.short) if c is not None)
    sampled = row.lower_bound or any(c is not None and c.sampled for c in (row.long, row.short))
    return (LOWER_BOUND if sampled else "") + f"{count:,}"


def _count_width(rows: tuple[TotalsRow, ...]) -> int:
    """The count column: wide enough for the longest count and a space before it (117,527)."""
    return max([7, *(len(_count(row)) + 2 for row in rows if not (row.unknown or row.no_feed))])


def _columns(labels: list[list[str]], width: int, count_w: int = 7) -> tuple[int, tuple[bool, bool]]:
    """(label width, (count shown, largest shown)): what a narrower pane gives up first is the
    largest column, then whole venue names (BIN for Binance), then the count; state words stay."""

    def need(pick) -> int:
        return max(6, *(len(pick(texts)) + 1 for texts in labels))

    full, with_state, bare = (
        need(lambda t: t[0]),
        need(lambda t: t[-3] if len(t) > 2 else t[-1]),
        need(lambda t: t[-1]),
    )
    for name_w, count, largest in (
        (max(12, full), True, True),
        (full, True, False),
        (with_state, True, False),
        (with_state, False, False),
    ):
        if name_w + 18 + count_w * count + (LARGEST_W + 2) * largest <= width:
            return name_w, (count, largest)
    return max(bare, width - 18), (False, False)  # each label then keeps what fits of its words


def _lower_bound_note(rows: tuple[TotalsRow, ...], width: int) -> str:
    """Why a "≥" figure is a lower bound: "≥ lower bound: sampled feed, Hyperliquid partial: backstop
    liquidator fills only" ("partial: backstop + 12 tracked accounts" once accounts are tracked;
    narrower: "HL partial")."""
    shown = [row for row in rows if not (row.unknown or row.no_feed)]
    if not any(
        _cell_usd(cell, row.lower_bound).startswith(LOWER_BOUND)
        for row in shown
        for cell in (row.long, row.short)
    ):
        return ""
    bounded = [row for row in shown if row.lower_bound and not row.is_total]
    partial = [row for row in bounded if row.partial]
    why = ["sampled feed"] if len(partial) < len(bounded) else []
    if any(row.unknown and not row.no_feed for row in rows if not row.is_total):
        why.append("no answer yet")
    blind = "/".join(row.label for row in rows if row.no_feed)
    longest = [
        *why,
        *(f"{row.label} {row.partial}" for row in partial),
        *([f"{blind} has no feed"] if blind else []),
    ]
    shorter = [*why, *(f"{row.tag} partial" for row in partial), *(["no feed"] if blind else [])]
    texts = [f"{LOWER_BOUND} lower bound: {', '.join(words)}" for words in (longest, shorter) if words]
    return fmt.fitting([*texts, f"{LOWER_BOUND} lower bound"], width)


class TotalsPane(LinePane[tuple[str, str, tuple[TotalsRow, ...]]]):  # window words, scope, rows
    """Realized liquidations by venue and side: LONG $, SHORT $, count, largest."""

    PANE_TITLE = "Realized liquidations"

    def displayed(self, view: SymbolView) -> tuple[str, str, tuple[TotalsRow, ...]]:
        return (window_words(view), _scope(view), totals_rows(view))

    def update_titles(self) -> None:
        window, scope, _ = self._shown
        self.fit_title(
            f"Realized liquidations · {window} · {scope}",
            f"Realized · {window} · {scope}",
            f"Realized {window}",
            window,
        )

    def draw(self, width: int, height: int) -> list[list[Part]]:
        _, _, rows = self._shown
        labels = [self._label_texts(row) for row in rows]
        count_w = _count_width(rows)
        name_w, columns = _columns(labels, width, count_w)
        lines: list[list[Part]] = [self._header(name_w, columns, count_w)]
        if len(rows) == 1 and rows[0].unknown:
            lines.append([("no venue reporting yet", "pane--dim")])
        for row, texts in zip(rows, labels, strict=True):
            lines.append(
                self._row(row, fmt.fitting(texts, name_w - 1).ljust(name_w), width - name_w, columns, count_w)
            )
        note = _lower_bound_note(rows, width)
        if note:
            lines.append([(note, "pane--dim")])
        return lines

    @staticmethod
    def _label_texts(row: TotalsRow) -> list[str]:
        """The row's label, longest first: the state word stays whole or goes (never "stal")."""
        if row.state is None or row.unknown or row.no_feed:
            return [row.label, row.tag]
        return [f"{row.label} {row.state}", f"{row.tag} {row.state}", row.label, row.tag]

    @staticmethod
    def _header(name_w: int, columns: tuple[bool, bool], count_w: int) -> list[Part]:
        parts: list[Part] = [("venue".ljust(name_w), "pane--head")]
        parts.append(("LONG".rjust(9), "pane--long"))
        parts.append(("SHORT".rjust(9), "pane--short"))
        if columns[0]:
            parts.append(("count".rjust(count_w), "pane--head"))
        if columns[1]:
            parts.append(("largest".rjust(LARGEST_W), "pane--head"))
        return parts

    @staticmethod
    def _row(row: TotalsRow, label: str, room: int, columns: tuple[bool, bool], count_w: int) -> list[Part]:
        label_style = "pane--head" if row.is_total else ("pane--stale" if row.state else None)
        if row.no_feed:
            return [
                (label, "pane--dim"),
                (fmt.fitting(["  no public feed", "  no feed", UNKNOWN], room), "pane--dim"),
            ]
        if row.unknown:
            texts = [
                f"{UNKNOWN}: {row.state} ({why})"
                for why in (row.reason, short_reason(row.reason))
                if row.state and why
            ]
            texts += [f"{UNKNOWN}: {row.state}"] if row.state else []
            return [(label, label_style), (fmt.fitting([*texts, UNKNOWN], room), "pane--stale")]
        parts: list[Part] = [(label, label_style)]
        parts.append((_cell_usd(row.long, row.lower_bound).rjust(9), "pane--long"))
        parts.append((_cell_usd(row.short, row.lower_bound).rjust(9), "pane--short"))
        if columns[0]:
            parts.append((_count(row).rjust(count_w), "pane--head" if row.is_total else None))
        if columns[1]:
            parts.append((_largest(row.long, row.short).rjust(LARGEST_W), None))
        return parts
