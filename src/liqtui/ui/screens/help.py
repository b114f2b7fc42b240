"""The help screen: every key of the desk, as currently bound (remaps included), and what every
abbreviation and mark on the desk means, pane by pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from liqtui.domain.venues import VENUES
from liqtui.ui.screens.modal import DeskModal


def spoken_list(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1]))) if names else ""


def sampled_venue_names() -> str:
    """The venues whose liquidation stream is a sample, as the help says them: 'Binance and OKX'."""
    return spoken_list([v.name for v in VENUES.values() if v.sampled])


_NO_FEED = [v.name for v in VENUES.values() if not v.has_liquidation_feed]

# (terms, meaning): terms joined by " / " share the meaning. A test reads the desk at every width
# and checks that each abbreviation it shows is here.
GLOSSARY: list[tuple[str, str]] = [
    ("header", ""),
    ("LIVE / DEMO / REPLAY", "where the data comes from (DEMO: simulated)"),
    ("REC", "every event is recorded to the file"),
    ("mark", "mark price of the venue with the most 24h volume"),
    ("24h", "24-hour price change"),
    ("fund", "funding rate and its interval (/8h, /1h); the header's is OI-weighted,"),
    ("", "restated per 8h; 'BIN in 3h55m': when that venue next pays funding"),
    ("OI", "open interest: all positions still open, in USD or coin"),
    ("● / <5s / stale", "a venue's feed: live with the age of its last message (<5s),"),
    ("", "stale, connecting, reconnecting or down"),
    (" / ".join(v.tag for v in VENUES.values()), ", ".join(v.name for v in VENUES.values())),
    ("ALL", "every venue together"),
    ("ladder", ""),
    ("ESTIMATED", "liquidation levels modelled from OI changes, not exchange data"),
    ("L / S", "estimated longs / shorts liquidated at that price (the bars)"),
    ("bid / ask", "order-book depth at that price, in coin"),
    ("▶ / ◀", "the current price row"),
    ("◆", "one of the side's largest estimated clusters"),
    ("! (ladder)", "a cluster_near alert is on that row (the alerts log: a)"),
    ("swept", "an estimate consumed when price crossed it; 'real' is what the"),
    ("real / no tape", "tape printed there, 'no tape' when no feed ran at the time"),
    ("step / follow", "price step of a row; follow keeps the price row centred"),
    (
        " / ".join(f"{v.tag} MEAS" for v in VENUES.values() if v.public_positions) + " / MEASURED",
        "tracked accounts' positions liquidated at that price: their real",
    ),
    ("", "liquidation prices (o lists them), never added to the estimate"),
    ("accts / of OI", "the line under the ladder: accounts tracked, their USD and share"),
    ("", "of the venue's OI, the oldest snapshot's age"),
    ("est. err / err", "the estimate against them: mean at-risk error to -15..+15 %"),
    ("near its ◆", "share of their USD within 0.5 % of an estimated ◆ cluster"),
    ("tape", ""),
    ("!", "a liquidation of at least the big size ($100k unless set)"),
    ("~", "sampled venue: at most one liquidation per symbol per second"),
    ("†", "a bankruptcy price (where the margin is zero), not a fill price"),
    ("x / in", "'61 x BTC shorts $227k in 1 s': a burst folded into one line"),
    ("LONG / SHORT", "the side of the position that was liquidated"),
    ("realized", ""),
    ("≥", "a lower bound: a sampled feed, or a venue missing from a total"),
    ("n/a", "not known: the venue has not delivered (its state and why)"),
    *(
        [
            (
                "no public feed",
                f"{spoken_list(_NO_FEED)} publish{'es' if len(_NO_FEED) == 1 else ''} no liquidations",
            )
        ]
        if _NO_FEED
        else []
    ),
    *[
        ("partial", f"{v.name}: {v.partial_note.removeprefix('partial: ')}, a floor")
        for v in VENUES.values()
        if v.partial_note
    ],
    ("so far", "'1h (5m so far)': the window is not full, the tape covered 5m"),
    ("count / largest", "liquidations in the window; the largest one and its side (L / S)"),
    ("open interest", ""),
    ("5m / 1h / 4h", "change of open interest (coin) over that window"),
    ("├ / ┤", "where OI sits between its low (left) and high over the lookback"),
    ("low", "'from 68,022 BTC 25h low': the lowest OI over the span covered"),
    ("regime", "price and OI direction over the window named, any move counts:"),
    ("", "new longs up/up, short covering up/down, new shorts down/up,"),
    ("", "long flush down/down (price / OI)"),
    ("at risk", ""),
    ("at risk to", "estimated shorts (up) or longs (down) liquidated on the way"),
    ("max pain", "the largest estimated cluster of shorts (S) and of longs (L)"),
    ("imb", "imbalance (S-L)/(S+L) of estimated shorts and longs within"),
    ("", "+-2, 5 and 10 % of price: +1 all shorts, -1 all longs"),
    ("volume, cross assets", ""),
    ("▲ / ▼", "24h change up / down"),
]


BOX_WIDTH = 90


def glossary_lines(width: int = 86) -> list[str]:
    """Term and meaning side by side; in a narrower box each meaning goes under its term."""
    term_w = max(len(terms) for terms, _ in GLOSSARY) + 2
    side_by_side = term_w + max(len(meaning) for _, meaning in GLOSSARY) <= width
    lines = []
    for terms, meaning in GLOSSARY:
        if not meaning:
            lines.append(f"{terms}:")
        elif side_by_side:
            lines.append(f"{terms:<{term_w}}{meaning}")
        else:
            lines += ([terms] if terms else []) + [f"    {meaning}"]
    return lines


class HelpScreen(DeskModal[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%;  /* BOX_WIDTH */ height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; color: $accent; }
    """

    def __init__(self, rows: list[tuple[str, str]], notes: list[str]) -> None:
        super().__init__()
        self._rows = rows
        self._notes = notes

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self._rows), default=4) + 2
        lines = [f"{keys:<{width}}{description}" for keys, description in self._rows]
        with VerticalScroll():
            yield Static("liqtui keys  (Esc closes, arrows scroll)", classes="title")
            yield Static("\n".join(lines), markup=False, id="help-keys")
            if self._notes:
                yield Static("\n".join(self._notes), markup=False, id="help-notes")
            yield Static("\nWhat the desk shows", classes="title")
            inner = min(BOX_WIDTH, self.app.size.width) - 4  # border and padding
            yield Static("\n".join(glossary_lines(inner)), markup=False, id="help-glossary")
