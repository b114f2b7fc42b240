"""The desk: one Textual App that runs an event source into the engine and shows its views.

Data flows one way. The source runs in a worker and calls ``emit`` for every event; ``emit`` only
updates the engine (and the recorder). A timer at ``settings.ui.render_hz`` builds ONE view of the
current symbol and hands it to the visible panes, which repaint only what changed. So the screen
costs the same at 10 events/s and at 2,000, and a burst can never starve the keyboard.

Failures stay local: a source that fails is reported and the desk stays up; an exception while
rendering is reported once and the next tick tries again; a pane that fails does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from textual import events, messages, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.filter import LineFilter, Monochrome, NoColor
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive, var
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from liqtui.config import Settings, config_dir
from liqtui.domain import format as fmt
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Event, FeedState, FeedStatus, Liquidation
from liqtui.domain.terminal import notice_bytes, notice_title
from liqtui.engine.batch import LiquidationBatch, load_numpy, newest_receipts
from liqtui.engine.engine import liquidation_runs
from liqtui.engine.views import WINDOWS, SymbolView
from liqtui.feeds.event_source import BulkEmit, BusHealth, EventSource, OnABus, ReplayControls, WarmingUp
from liqtui.feeds.live.errors import NETWORK_REASONS
from liqtui.ui import theme as desk_theme
from liqtui.ui.alerts import DeskAlerts
from liqtui.ui.covered import install as install_covered
from liqtui.ui.header import Badge, DeskHeader, venue_health
from liqtui.ui.screens import (
    AlertsScreen,
    HelpScreen,
    OfferDemoScreen,
    PositionsScreen,
    sampled_venue_names,
)
from liqtui.ui.strips import install as install_strips
from liqtui.ui.widgets import (
    CrossAssetStrip,
    HeatmapPane,
    LadderPane,
    OIPane,
    PromptBar,
    RiskChartPane,
    SymbolPicker,
    TapePane,
    TotalsPane,
    VolumeSharePane,
    parse_amount,
    parse_target,
)
from liqtui.ui.widgets.command_bar import CommandBar, in_command_bar, lift_toasts
from liqtui.ui.widgets.feed_health import feed_reason
from liqtui.ui.widgets.flash import Flash
from liqtui.ui.widgets.line_pane import LinePane
from liqtui.ui.widgets.risk_chart import at_risk_note
from liqtui.ui.widgets.tape import price_kind_note
from liqtui.ui.widgets.totals import realized_summary

install_strips()  # no strip kept alive by its own cache (ui/strips.py)
install_covered()  # no widget drawn where another covers it whole (ui/covered.py)

LAYOUTS = ("auto", "full", "medium", "compact", "tape", "ladder", "oi", "heatmap")
SINGLE_PANE_LAYOUTS = ("tape", "ladder", "oi", "heatmap")
# Width breakpoints of the automatic layout: compact up to 80 columns, full from 150.
BREAKPOINTS = [(0, "-compact"), (81, "-medium"), (150, "-full")]
# Height classes: a short terminal drops the lower panes instead of squeezing them to nothing.
HEIGHT_BREAKPOINTS = [(0, "-h-small"), (26, "-h-medium"), (36, "-h-large")]
OFFER_DEMO_AFTER_S = 12.0  # a live desk that hears nothing from any venue this long offers the demo
OFFER_AGAIN_FACTOR = 10  # after "keep waiting": asked again 10x, then 20x, 40x... that later
OFFER_AGAIN_MAX_S = 1800.0
REPLAY_SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

# Every key of the desk. The id is the action name users remap in `[ui] keys`. They live on the App,
# not on the pane they act on (ladder zoom/follow, tape keys): a widget's bindings act only while the
# focus is inside it, and the desk's panes take no focus, so every key works whatever is on screen and
# the footer and `?` list them from here. Each pane key checks its pane is shown (``applies_here``).
DESK_BINDINGS: list[Binding] = [
    # Help and quit first: a narrow footer (tmux side pane) cuts from the right, and `?` lists the rest.
    Binding("question_mark", "help", "help", id="help", tooltip="this help"),
    Binding("q", "quit", "quit", id="quit", tooltip="quit"),
    # The alerts log next: an alert's toast is gone in seconds, the log keeps it (seen at 60 columns).
    Binding("a", "alerts", "alerts", id="alerts", tooltip="the alerts log: every alert of this session"),
    # Replay keys next: hidden outside a replay (check_action), first thing seen in one.
    Binding(
        "space", "replay_pause", "play/stop", id="replay_pause", tooltip="replay: stop or play the clock"
    ),
    Binding(
        "less_than_sign",
        "replay_speed(-1)",
        "slower",
        id="replay_slower",
        show=False,
        tooltip="replay: slower",
    ),
    Binding(
        "greater_than_sign",
        "replay_speed(1)",
        "speed",
        id="replay_faster",
        key_display="</>",
        tooltip="replay: faster",
    ),
    Binding(
        "comma",
        "replay_seek(-60)",
        "seek 1m",
        id="replay_back",
        key_display=",/.",
        tooltip="replay: back one minute",
    ),
    Binding(
        "full_stop",
        "replay_seek(60)",
        "ahead 1m",
        id="replay_ahead",
        show=False,
        tooltip="replay: ahead one minute",
    ),
    Binding(
        "left",
        "replay_seek(-600)",
        "10m",
        id="replay_back_10m",
        key_display="←/→",
        tooltip="replay: back ten minutes",
    ),
    Binding(
        "right",
        "replay_seek(600)",
        "ahead 10m",
        id="replay_ahead_10m",
        show=False,
        tooltip="replay: ahead ten minutes",
    ),
    Binding(
        "shift+left",
        "replay_seek(-3600)",
        "back 1h",
        id="replay_back_1h",
        show=False,
        tooltip="replay: back one hour",
    ),
    Binding(
        "shift+right",
        "replay_seek(3600)",
        "ahead 1h",
        id="replay_ahead_1h",
        show=False,
        tooltip="replay: ahead one hour",
    ),
    Binding(
        "slash,ctrl+p",
        "pick_symbol",
        "symbol",
        id="pick_symbol",
        tooltip="pick a symbol: fuzzy search over every market",
    ),
    Binding(
        "left_square_bracket",
        "step_symbol(-1)",
        "prev",
        id="prev_symbol",
        tooltip="previous watchlist symbol",
    ),
    Binding(
        "right_square_bracket", "step_symbol(1)", "next", id="next_symbol", tooltip="next watchlist symbol"
    ),
    *(
        Binding(
            str(n),
            f"jump({n})",
            "watchlist" if n == 1 else f"watchlist {n}",
            id=f"watchlist_{n}",
            show=n == 1,
            key_display="1-9" if n == 1 else None,
        )
        for n in range(1, 10)
    ),
    Binding(
        "w",
        "cycle_window",
        "window",
        id="cycle_window",
        tooltip="realized totals window: 1m 5m 1h 4h 12h 24h",
    ),
    Binding(
        "plus,equals_sign",
        "zoom(-1)",
        "zoom",
        id="zoom_in",
        key_display="+/-",
        tooltip="ladder and heatmap: finer price step",
    ),
    Binding(
        "minus",
        "zoom(1)",
        "zoom out",
        id="zoom_out",
        show=False,
        tooltip="ladder and heatmap: coarser price step",
    ),
    Binding(
        "f",
        "toggle_follow",
        "follow",
        id="toggle_follow",
        tooltip="ladder: keep the price row centred (follow) or stay put",
    ),
    Binding(
        "h",
        "swap_heatmap",
        "heatmap",
        id="swap_heatmap",
        tooltip="heatmap: swap it with the ladder (ESTIMATED levels through time)",
    ),
    Binding(
        "r", "heatmap_range", "range", id="heatmap_range", tooltip="heatmap: time range 12h 24h 3d 7d 30d"
    ),
    Binding("s", "heatmap_scale", "scale", id="heatmap_scale", tooltip="heatmap: colour scale log or linear"),
    Binding(
        "v",
        "heatmap_venue",
        "venue",
        id="heatmap_venue",
        show=False,
        tooltip="heatmap: all venues, each one, or MEASURED tracked accounts",
    ),
    Binding(
        "g", "set_target", "target", id="set_target", tooltip="at-risk target price: 92000, 92k, +11% or -5%"
    ),
    Binding("m", "set_tape_min", "min size", id="set_tape_min", tooltip="tape: minimum USD size shown"),
    Binding(
        "c",
        "toggle_tape_scope",
        "tape scope",
        id="toggle_tape_scope",
        tooltip="tape: all markets or this symbol only",
    ),
    Binding(
        "p", "toggle_pause", "pause", id="toggle_pause", tooltip="pause the display (data keeps flowing in)"
    ),
    Binding(  # kept out of the footer: at 160 columns it would cut the last key; `?` lists it
        "o",
        "positions",
        "positions",
        id="positions",
        show=False,
        tooltip="tracked Hyperliquid accounts' MEASURED positions, nearest liquidation first",
    ),
    Binding(  # kept out of the footer (for `a`, at 160 columns); `?` lists it
        "t",
        "cycle_theme",
        "theme",
        id="cycle_theme",
        show=False,
        tooltip="next theme (dark, light, ansi, yours)",
    ),
]
REPLAY_ACTIONS = {"replay_pause", "replay_speed", "replay_seek"}
REPLAY_BINDING_IDS = {b.id for b in DESK_BINDINGS if b.id and b.id.startswith("replay_")}
BAR_ACTIONS = frozenset({"pick_symbol", "set_target", "set_tape_min"})  # each opens a command bar

_W = TypeVar("_W", bound=Widget)
_Bar = TypeVar("_Bar", bound=CommandBar[Any])
BARS_AFTER_S = 1.0  # the command bar is mounted this long after the first frame (or at its first key)
YOUNG_GC_THRESHOLD = 10_000  # the collector's youngest generation, once the history is in (_young_gc)
_HISTORY_WAIT_S = 0.002  # the wait for a warm-up's read-ahead (storage.reader.Warming.waiting)
_HISTORY_SHOWN_S = 1.0  # the source starts after the history's first full frame, or this long at most
STEP_PREPARED_S = 5.0  # after `]` or `[`, the next symbol that way is kept built this long (_prepare_target)

_PANE_TYPES: dict[str, type[LinePane[Any]]] = {
    "ladder": LadderPane,
    "heatmap": HeatmapPane,  # after the ladder: swapped in, it takes the ladder's place in the grid
    "tape": TapePane,
    "totals": TotalsPane,
    "oi": OIPane,
    "risk": RiskChartPane,
    "share": VolumeSharePane,
}


def nice_step(step: float, direction: int) -> float:
    """The next price step on the 1-2-5 scale, finer (direction < 0) or coarser (> 0)."""
    exponent = math.floor(math.log10(step))
    candidates = [m * 10.0**e for e in range(exponent - 1, exponent + 2) for m in (1, 2, 5)]
    if direction < 0:
        smaller = [c for c in candidates if c < step * 0.999]
        return max(smaller) if smaller else step / 2
    larger = [c for c in candidates if c > step * 1.001]
    return min(larger) if larger else step * 2


def border_words(pane: Widget) -> str:
    """What the pane's border says where it is drawn: its title on a top border, its subtitle on a
    bottom one (the compact and one-pane layouts draw a title line only, so no subtitle)."""
    styles = pane.styles
    edges = ((styles.border_top, pane.border_title), (styles.border_bottom, pane.border_subtitle))
    return " ".join(
        str(text) for (kind, _colour), text in edges if text and kind not in ("", "none", "hidden")
    )


def _young_gc() -> None:
    """The collector's youngest generation passes at ``YOUNG_GC_THRESHOLD`` objects instead of 700.
    A chunk of 250 demo events (and a frame's strips) holds thousands of objects for a moment: at 700
    the collector passed ~20 times a second at stress and moved what was in flight to the older
    generations, whose passes then ran every ~2 s (and a full one every ~5 s): 0.4-0.6 s of CPU in 20 s,
    2-3 % of a core. At 10,000 it passes every ~4 s, 0.06-0.07 s in 20 s (bench/README.md, "The
    collector's youngest generation"); a pass is 12-22 ms, as the older ones' were."""
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


def _collect_less() -> None:
    """What the desk holds before a replay's catch-up (Textual's, the app's: kept as long as the desk)
    leaves the collector's generations, and the youngest passes at ``YOUNG_GC_THRESHOLD`` (as once a
    history is in, ``_freeze_history``): a catch-up of half a million rows builds objects by the
    hundred thousand, and the collector's passes over them and the desk took ~0.1-0.2 s of its CPU."""
    gc.freeze()
    _young_gc()


def default_engine(settings: Settings) -> Any:
    from liqtui.engine import Engine

    return Engine(settings.levels)


class DeskFooter(Footer):
    """Textual's footer, rebuilt only when the desk's keys change. Textual's rebuilds every key (20-odd
    widgets, then a layout of the whole screen) whenever the bindings in force change, and they change
    at each change of focus: the command bar's input hides the letter keys while it has the focus and
    gives them back on closing, two rebuilds per `/` or `g` (5 opens of the picker with 2 keystrokes
    each: 63 layouts of the screen, 30 without them). So the footer holds still while the command bar has the focus (the
    bar covers it and says its own keys), and the bar's close finds the keys it shows unchanged."""

    _shown: list[tuple[str, str, str, bool, str]] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if in_command_bar(screen.focused):
            return
        shown = [
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        ]
        if shown == self._shown:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # recomposed now; otherwise at the next change, as Textual does
        super().bindings_changed(screen)


class DeskScreen(Screen[None]):
    """The main screen; its class (-full, -medium, -compact, -single) chooses the layout."""

    # Textual's Screen repaints every cell at each move of the focus (its ``focused`` reactive): the
    # command bar's input taking the focus and giving it back made each `/` and `g` opening and close a
    # full update of the desk, 7,200 cells built and written at 160x45 (27-32 KB, 8-10 ms of CPU and a
    # young collection in most openings). What looks different with the focus is restyled and
    # repainted by Textual on its own (``set_focus``). That full repaint also hid a race that
    # ``LiqtuiApp._in_next_frame`` now closes (bench/README.md, "The picker's slow presses").
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, layout: str) -> None:
        super().__init__(id="desk-screen")
        self.desk_layout = layout
        self._panes: list[LinePane[Any]] | None = None  # found once mounted (``panes``)
        self.header: DeskHeader | None = None  # composed with the screen
        self.flash_line: Flash | None = None  # the same: found without a query of the DOM
        self.VERTICAL_BREAKPOINTS = HEIGHT_BREAKPOINTS
        if layout == "auto":
            self.HORIZONTAL_BREAKPOINTS = BREAKPOINTS
        elif layout in SINGLE_PANE_LAYOUTS:
            self.HORIZONTAL_BREAKPOINTS = [(0, "-single")]
            self.add_class(f"-only-{layout}")
        else:
            self.HORIZONTAL_BREAKPOINTS = [(0, f"-{layout}")]

    def fit_breakpoints(self, size: Size) -> None:
        """The breakpoint classes of ``size`` before the first layout. Textual sets them at the first
        Resize, after a layout and paint with none (the panes in one column), then lays out and
        paints again: 60-100 ms more before the first frame."""
        widths = self.HORIZONTAL_BREAKPOINTS or []
        for dimension, points in ((size.width, widths), (size.height, HEIGHT_BREAKPOINTS)):
            fits = [name for least, name in points if dimension >= least]
            if fits:
                self.add_class(fits[-1], update=False)  # styled once, when mounted

    def compose(self) -> ComposeResult:
        header = self.header = DeskHeader(id="header")
        if isinstance(self.app, LiqtuiApp):  # the badge (DEMO, LIVE...) in the terminal's first frame
            header.show(None, self.app.badge())
        yield header
        with Container(id="desk"):
            for pane_id, pane_type in _PANE_TYPES.items():
                yield pane_type(id=pane_id)
        yield CrossAssetStrip(id="cross")
        yield DeskFooter(compact=True)
        # Over the footer, hidden until a key has a short answer.
        line = self.flash_line = Flash(id="flash")
        yield line

    def panes(self) -> list[LinePane[Any]]:
        """The panes, composed once with the screen and found once: a query of the DOM at each render
        tick walked every widget of the desk (~0.5 ms of CPU, and as much for the header's)."""
        if not self._panes:
            self._panes = list(self.query(LinePane))
        return self._panes

    class PanesReady(Message):
        """The desk's panes are mounted: the app gives them their starting settings and draws."""

    def on_mount(self) -> None:
        self.post_message(self.PanesReady())


class LiqtuiApp(App[None]):
    """The liquidation desk."""

    CSS_PATH = Path(__file__).parent / "desk.tcss"  # absolute: subclasses live elsewhere (bench)
    TITLE = "liqtui"
    ENABLE_COMMAND_PALETTE = False  # ctrl+p opens the symbol picker (why not a palette: widgets/picker.py)
    BINDINGS = [*DESK_BINDINGS]  # a list of BindingType for App, the same Bindings

    # var, not reactive: a change is drawn by the panes it concerns (render_tick); a reactive on the
    # App repaints the whole screen (every cell of every pane) on each key.
    paused: var[bool] = var(False)
    window: var[str] = var("1h")
    symbol: var[str] = var("")

    def __init__(
        self,
        settings: Settings,
        source: EventSource,
        *,
        engine: Any = None,
        recorder: Any = None,
        layout: str | None = None,
        demo: Callable[[], EventSource] | None = None,
        theme_dir: Path | str | None = None,
    ) -> None:
        """``demo`` builds the demo source offered when a live desk hears from no venue;
        ``theme_dir`` is where user themes are read (default ``<config dir>/themes``)."""
        self.settings = settings
        self.source = source
        self.engine = engine if engine is not None else default_engine(settings)
        self.recorder = recorder
        self.recording_off = False  # set by the desk when it was to record and could not
        # The recording's history (storage.reader.Warming), set by the live desk: applied to the engine
        # a batch per turn of the loop after the first frame, before the source starts; None once in.
        self.history: Any = None
        self._demo_factory = demo
        self.startup_notes: list[str] = []  # shown once the desk is up (recording off, ...)
        self.alerts = DeskAlerts(
            settings,
            self.engine,
            source.now_ms(),
            push=source.mode != "REPLAY",
            history=self._catching_up,
            recorded=getattr(source, "recorded_alerts", None),  # a replay's, when its file holds them
            label="" if source.mode == "LIVE" else source.mode,
        )
        if self.alerts.problem:
            self.startup_notes.append(self.alerts.problem)
        self.desk_layout = layout or settings.ui.layout
        if self.desk_layout not in LAYOUTS:
            self.startup_notes.append(
                f"[ui] layout '{self.desk_layout}' is not one of {', '.join(LAYOUTS)}; using auto."
            )
            self.desk_layout = "auto"
        self._theme_dir = Path(theme_dir) if theme_dir is not None else config_dir() / "themes"
        super().__init__()
        self.watchlist = list(settings.watchlist) or ["BTC/USDT:USDT"]
        self.set_reactive(LiqtuiApp.symbol, self.watchlist[0])
        self.grid: float | None = None  # None: the engine's default step for the symbol
        self.last_view: SymbolView | None = None
        self.events_seen = 0
        self.data_seen = False  # any market event (not only feed statuses) arrived
        self.last_message: dict[str, int] = {}  # venue -> time of its newest event
        self._reported: set[str] = set()
        self._theme_names: list[str] = []
        self._key_overrides: dict[str, str] = {}  # [ui] keys as applied: action id -> keys
        self._no_color_filters: dict[bool, LineFilter] = {
            True: NoColor(),
            False: Monochrome(),
        }  # by theme.ansi
        self._started = time.monotonic()  # for "no venue has answered for 2m"
        self._offers_declined = 0
        self._history_frozen = False
        self._history_in = False  # a live desk's recording applied (_show_history): it freezes too
        # A key's frame whose other panes are still being drawn (_show_later), and since when
        self._later: tuple[SymbolView, float] | None = None
        self._bars_mounting: AwaitMount | None = None  # the command bar's widgets (_mount_bars)
        self._bars: tuple[CommandBar[Any], ...] = ()
        self._bar_keys: frozenset[str] | None = None  # the keys that open a bar (keymap applied), once
        self._bars_ready = False
        # The picker's highlighted symbol's view, built while it is open, or the next one along the
        # watchlist after a step (_prepare_symbol); the last step's direction and when (_prepare_target)
        self._prepared: tuple[tuple[Any, ...], SymbolView] | None = None
        self._preparing = False
        self._stepped: tuple[int, float] | None = None
        self._hook_replay_reset(source)

    # --- start-up ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        screen = DeskScreen(self.desk_layout)
        screen.fit_breakpoints(self.size)
        return screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(desk_theme.APP_VARIABLES)

    def on_mount(self) -> None:
        self._load_themes()
        self._apply_keymap()
        self.theme_changed_signal.subscribe(self, lambda _theme: self._set_no_color_filter())
        self.source.set_focus(self.symbol)
        interval = 1.0 / max(0.2, min(30.0, self.settings.ui.render_hz))
        self.set_interval(interval, self._timer_tick, name="render-tick")
        if self.source.mode == "LIVE" and self._demo_factory is not None:
            self.set_timer(OFFER_DEMO_AFTER_S, self._check_reachable)
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=15)

    def on_desk_screen_panes_ready(self, _message: DeskScreen.PanesReady) -> None:
        """The desk screen is mounted: give the panes their starting settings, draw at once."""
        tape = self._pane("tape", TapePane)
        if tape is not None:
            tape.min_usd = self.settings.ui.tape_min_usd
            tape.big_usd = self.settings.ui.big_liquidation_usd
        heatmap = self._pane("heatmap", HeatmapPane)
        if heatmap is not None:
            heatmap.source = lambda *args: self.engine.heatmap(*args)
            heatmap.neighbour = lambda: self.watchlist_neighbour(1)
        self.call_after_refresh(self._first_frame)
        self.set_timer(BARS_AFTER_S, self._mount_bars)

    def _first_frame(self) -> None:
        """The panes have their size: draw them, then start the source once that is on screen (the
        demo builds its history in a thread, which took half the CPU of the first frame)."""
        self.render_tick()
        self.call_after_refresh(self._start_source)

    def _load_themes(self) -> None:
        loaded = desk_theme.load_themes(self._theme_dir)
        for theme in loaded.themes:
            self.register_theme(theme)
        self._theme_names = [t.name for t in loaded.themes]
        # One notification for every broken file together; the desk starts regardless.
        if loaded.errors:
            self.notify("Theme files skipped:\n" + "\n".join(loaded.errors), severity="warning", timeout=15)
        wanted = self.settings.ui.theme
        if wanted not in self._theme_names:
            if not any(wanted in error for error in loaded.errors):
                self.notify(
                    f"Theme '{wanted}' not found (have: {', '.join(self._theme_names)}); using dark.",
                    severity="warning",
                )
            wanted = desk_theme.DEFAULT_THEME
        if wanted not in self._theme_names:  # the shipped theme files are missing (a broken install)
            wanted = "textual-dark"
        self.theme = wanted

    def _apply_keymap(self) -> None:
        keys = dict(self.settings.ui.keys)
        known = {b.id for b in DESK_BINDINGS if b.id}
        unknown = sorted(set(keys) - known)
        if unknown:
            self.notify(
                f"[ui] keys: unknown action {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                severity="warning",
                timeout=15,
            )
        self._key_overrides = {action: key for action, key in keys.items() if action in known}
        self.set_keymap(self._key_overrides)

    def _set_no_color_filter(self) -> None:
        """NO_COLOR: the filter follows the theme (``get_line_filters``); redraw with the new one."""
        if self.no_color:
            self.refresh(layout=False)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """NO_COLOR: monochrome for RGB themes, plain terminal colours for the ANSI theme.

        Textual picks its NO_COLOR filter once, for the theme active at start: with an ANSI theme
        its monochrome filter turns every ANSI colour into black (black on black; docs/architecture.md,
        colour never carries meaning alone). So the filter follows the theme: NoColor for ANSI themes, Monochrome otherwise.
        """
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        wanted = self._no_color_filters[self.current_theme.ansi]
        return [wanted if isinstance(f, (NoColor, Monochrome)) else f for f in filters]

    # --- the source -------------------------------------------------------------------------

    def _start_source(self) -> None:
        self._run_source(self.source)

    def _hook_replay_reset(self, source: EventSource) -> None:
        # A backward seek cannot un-apply events: the replay asks for a fresh engine first. A
        # catch-up's end is drawn at once: the next render tick came up to 1/render_hz later.
        if isinstance(source, ReplayControls):
            source.on_reset = self.reset_engine
            source.on_caught_up = self.render_tick

    @property
    def replay(self) -> ReplayControls | None:
        """The source's replay controls when it is a replay; None otherwise."""
        source = self.source
        return source if source.mode == "REPLAY" and isinstance(source, ReplayControls) else None

    def reset_engine(self) -> None:
        self.engine = default_engine(self.settings)
        self.alerts.reset(self.engine, 0)  # the catch-up that follows is quiet (see emit)
        self.last_message = {}

    @work(exclusive=True, group="source", exit_on_error=False)
    async def _run_source(self, source: EventSource) -> None:
        if self.history is not None:
            await self._apply_history()
            await self._show_history()
        if source is self.replay:
            _collect_less()  # its catch-up comes first
        await source.run(BulkEmit(self.emit, self.emit_many))

    async def _apply_history(self) -> None:
        """The recording's history into the engine, a batch per turn of the loop (frames and keys in
        between; the header says "building history N %"). Not through ``emit``: it is recorded
        already, and its alerts are not news. A quit or a switch to the demo stops it."""
        try:
            await asyncio.to_thread(load_numpy)  # the history's columns: imported off the loop
            while self.history.step():  # noqa: ASYNC110 - a turn of the loop per batch
                # A read-ahead's child not there yet (``waiting``): a short wait, not a spin.
                await asyncio.sleep(_HISTORY_WAIT_S if self.history.waiting else 0)
        except Exception as exc:  # noqa: BLE001 - a file that fails mid-read: said once, the venues start
            self.report_once(
                "history", f"The recording's history stopped part way ({exc}); live data goes on."
            )
        finally:
            self._started = time.monotonic()  # "no venue has answered for ..." counts from here
            self.history.close()
            self.history = None

    async def _show_history(self) -> None:
        """The desk drawn whole as soon as its history is in, and on screen before the source starts:
        the render timer came up to a quarter of a second later, and the live source's start (ccxt's
        import, ~0.5 s of CPU in a thread) held the interpreter meanwhile (the frame came ~0.45 s after
        the history, bench/README.md "Warm-up and a replay's catch-up")."""
        self._history_in = True
        self.render_tick()
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drawn.wait(), _HISTORY_SHOWN_S)

    def emit(self, event: Event) -> None:
        """Every event of the source: into the engine (and the recording). Never repaints."""
        self.events_seen += 1
        if not isinstance(event, FeedStatus):
            self.data_seen = True
            # The header's "age of the last message" per venue: feeds report status only on
            # changes, so the desk keeps the newest event time of each venue itself.
            at = event.recv_time if isinstance(event, Liquidation) else event.time
            if at > self.last_message.get(event.venue, 0):
                self.last_message[event.venue] = at
        try:
            self.engine.apply(event)
            self._say(self.alerts.see(event))
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the stream: reported, skipped
            self.report_once("apply", f"An event could not be used and was skipped: {exc!r}")
        self._record((event,))

    def emit_many(self, events: Sequence[Event]) -> None:
        """``emit`` for each of ``events`` in order, with the same result; a run of liquidations goes
        through the engine at once (``Engine.apply_liquidations``, docs/architecture.md: the bulk path);
        a replay's ``LiquidationBatch`` is one such run, read as columns."""
        if type(events) is LiquidationBatch:
            self._emit_liquidations(events)
            return
        for item in liquidation_runs(events):
            if isinstance(item, list):
                self._emit_liquidations(item)
            else:
                self.emit(item)

    def _emit_liquidations(self, liqs: Sequence[Liquidation]) -> None:
        self.events_seen += len(liqs)
        self.data_seen = True
        last_message = self.last_message
        for venue, at in newest_receipts(liqs).items():
            if at > last_message.get(venue, 0):
                last_message[venue] = at
        try:
            self.engine.apply_liquidations(liqs)
            self._say(self.alerts.see_liquidations(liqs))
        except Exception as exc:  # noqa: BLE001 - as in emit: reported, skipped
            self.report_once("apply", f"An event could not be used and was skipped: {exc!r}")
        self._record(liqs)

    def _say(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            self.announce(alert)
            if self.recorder is not None:
                self.recorder.add(alert)  # said live: a replay shows it again

    def _record(self, events: Iterable[Event]) -> None:
        """The events into the recording, if the desk records, with the heatmap buckets they closed
        (the heatmap's history, for a restart)."""
        if self.recorder is not None:
            for event in events:
                self.recorder.add(event)
            for bucket in self.engine.take_heatmap_buckets():
                self.recorder.add(bucket)

    def _catching_up(self) -> bool:
        """The source hands out history (a replay catching up after a seek or at its start, the demo
        its backfill): its alerts are not news. Asked per event: an attribute read, no isinstance."""
        return getattr(self.source, "warmup", None) is not None

    def announce(self, alert: Alert) -> None:
        """A toast for each new alert (its updates go to the log, `a`), and the terminal's notices."""
        if alert.update:
            return
        title = f"{'recorded alert' if self.alerts.recorded is not None else 'alert'}: {alert.rule}"
        self.notify(alert.text, title=title, severity="warning", timeout=8, markup=False)
        driver = self._driver
        if self.alerts.notices.any and driver is not None and not driver.is_headless:
            head = notice_title(self.alerts.label)  # "liqtui DEMO" on simulated data
            driver.write(
                notice_bytes(alert.text, self.alerts.notices, tmux=bool(os.environ.get("TMUX")), title=head)
            )

    def action_alerts(self) -> None:
        recorded = self.alerts.recorded is not None
        self.push_screen(AlertsScreen(self.alerts.log, len(self.alerts.rules), self.source.mode, recorded))

    def action_positions(self) -> None:
        self.push_screen(PositionsScreen(lambda: self.last_view, self.source.mode))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "source":
            return
        if event.state is WorkerState.ERROR:
            self.notify(
                f"The {self.source.mode.lower()} source stopped: {worker.error!r}. "
                "The desk keeps showing what it has.",
                severity="error",
                timeout=30,
            )
        elif event.state is WorkerState.SUCCESS:
            words = "Replay finished." if self.source.mode == "REPLAY" else "The source ended."
            self.notify(words, timeout=10)

    def _check_reachable(self) -> None:
        if self.data_seen or self.source.mode != "LIVE":
            return
        if self.history is not None:  # the venues are asked once the recording's history is in
            self.set_timer(OFFER_DEMO_AFTER_S, self._check_reachable)
            return
        view = self.last_view or self._fresh_view()
        feeds = view.feeds if view is not None else ()
        if any(s.state is FeedState.LIVE for s in feeds):
            return
        # After "keep waiting" the desk asks again only after a growing pause, never soon.
        again_s = min(OFFER_AGAIN_MAX_S, OFFER_DEMO_AFTER_S * OFFER_AGAIN_FACTOR * 2**self._offers_declined)

        def chosen(demo: bool | None) -> None:
            if demo:
                self.switch_to_demo()
            else:
                self._offers_declined += 1
                self.set_timer(again_s, self._check_reachable)

        self.push_screen(OfferDemoScreen(self._unreachable_words(feeds), fmt.age(again_s * 1000)), chosen)

    def _unreachable_words(self, feeds: tuple[FeedStatus, ...]) -> str:
        """ "No venue has answered for 12s: DNS failed at every venue." and one line per venue."""
        waited = fmt.age((time.monotonic() - self._started) * 1000)
        health = venue_health(feeds)  # one state per venue: the worst of its data kinds
        details = [detail for _state, _last, detail in health.values()]
        common = next((w for w in NETWORK_REASONS if details and all(w in d for d in details)), None)
        lines = [f"No venue has answered for {waited}" + (f": {common} at every venue." if common else ".")]
        for venue in sorted(health, key=fmt.venue_sort_key):  # no exception, URL or retry counter
            state, _last, detail = health[venue]
            lines.append(f"  {fmt.venue_name(venue)}: {state.value} {feed_reason(detail)}".rstrip())
        return "\n".join(lines)

    def switch_to_demo(self) -> None:
        """The user chose the demo: a fresh engine, no recording, the badge says DEMO."""
        assert self._demo_factory is not None
        self.workers.cancel_group(self, "source")
        if self.recorder is not None:
            self.recorder.flush()
        self.recorder = None  # simulated data never goes into the live recording
        self.recording_off = False
        self.source = self._demo_factory()
        self._hook_replay_reset(self.source)
        self.engine = default_engine(self.settings)
        self.alerts.reset(self.engine, self.source.now_ms())  # the rules read the new engine
        self.alerts.relabel(self.source.mode)
        self.last_view = None
        self.last_message = {}
        self.source.set_focus(self.symbol)
        self._start_source()
        self.notify("Running the DEMO: simulated data.", severity="warning")

    # --- the render tick --------------------------------------------------------------------

    def warmup(self) -> float | None:
        """How far the source is in getting ready (a replay catching up, the demo building its
        history, the live desk its recording's), 0 to 1; None when it is ready. Until then only the
        header moves."""
        if self.history is not None:
            return float(self.history.share)
        return self.source.warmup if isinstance(self.source, WarmingUp) else None

    def badge(self) -> Badge:
        source, replay = self.source, self.replay
        warmup = self.warmup()
        return Badge(
            mode=source.mode,
            paused=self.paused,
            clock_ms=(replay.heading_ms if warmup is not None else source.now_ms())
            if replay is not None
            else None,
            warmup=warmup,
            speed=replay.speed if replay is not None else None,
            replay_paused=replay.paused if replay is not None else False,
            recorded=replay.recorded_mode if replay is not None else None,
            recording=self.recorder is not None and self.recorder.error is None,
            recording_off=self.recording_off
            or (self.recorder is not None and self.recorder.error is not None),
        )

    def _bus_health(self) -> BusHealth | None:
        """The bus's health on a desk that reads one; its first undecodable message is said once."""
        if not isinstance(self.source, OnABus):
            return None
        health = self.source.bus_health()
        if health.undecodable:
            self.report_once(
                "bus-undecodable",
                f"The bus carries messages that are no liqtui event; they are counted on the bus chip "
                f"and skipped (the latest: {health.last_problem})",
            )
        return health

    def build_view(self) -> SymbolView:
        prepared = self._take_prepared()
        if prepared is not None:
            return prepared
        tape = self._pane("tape", TapePane)
        if tape is not None:  # the engine filters the tape before its cap (a cascade keeps the big prints)
            self.engine.set_tape_filter(tape.tape_filter(self.symbol))
        return self._view_of(self.symbol, self.grid)

    def _view_of(self, symbol: str, grid: float | None) -> SymbolView:
        self.engine.track_rows(symbol, grid)  # the ladder's rows kept current at its step
        kwargs: dict[str, Any] = {"window": self.window, "cross_assets": list(self.settings.cross_assets)}
        if grid is not None:
            kwargs["grid"] = grid
        return self.engine.view(symbol, self.source.now_ms(), **kwargs)

    # --- the next symbol (the picker's match, the next one after a step), prepared before its key ---

    def _prepare_basis(self, symbol: str) -> tuple[Any, ...] | None:
        """What a view of ``symbol`` prepared now must still match when its key shows it (None: none is
        prepared): the engine, the window, and the tape's filter, which must be the one the engine holds
        (the tape of one symbol only would fold the engine's tape again for the candidate)."""
        tape = self._pane("tape", TapePane)
        tape_filter = tape.tape_filter(symbol) if tape is not None else None
        if tape is not None and tape_filter != tape.tape_filter(self.symbol):
            return None
        return (symbol, self.engine, self.window, tape_filter, tuple(self.settings.cross_assets))

    def _prepare_target(self) -> str | None:
        """The symbol a key is likely to show next, to be built before it comes: the picker's highlighted
        match while it is open (its Enter), else for ``STEP_PREPARED_S`` after `]` or `[` the next symbol
        the same way along the watchlist (the next press: a trader steps through the watchlist)."""
        picker = next((bar for bar in self._bars if isinstance(bar, SymbolPicker)), None)
        if picker is not None and picker.is_open:
            return picker.candidate
        stepped = self._stepped
        if stepped is not None and time.monotonic() - stepped[1] < STEP_PREPARED_S:
            return self.watchlist_neighbour(stepped[0])
        self._stepped = None  # and what was prepared for it is dropped (``_prepare_symbol``)
        return None

    def _prepare_symbol(self) -> None:
        """The symbol a key is likely to show next (``_prepare_target``), its view and its ladder built
        now, after a frame, so that the key (the picker's Enter, `]`) swaps them in instead of building
        them in its frame (~4 ms for the view and ~2-3 for the ladder's rows and heat at busy, 160x45).
        Built again after each render tick meanwhile, so it is never older than what the screen shows;
        a prepared view is taken only if it is not older than the desk's last (``_take_prepared``)."""
        self._preparing = False
        if self._messages_waiting():  # keys typed in one read: after the last of them
            self._prepare_after_refresh()
            return
        symbol = self._prepare_target()
        basis = self._prepare_basis(symbol) if symbol and symbol != self.symbol else None
        if symbol is None or basis is None or self.paused or self._covered() or self.warmup() is not None:
            self._drop_prepared()
            return
        kept = self._prepared
        last = self.last_view
        if kept is not None and kept[0] == basis and (last is None or kept[1].now >= last.now):
            return  # as new as the screen's
        try:
            view = self._view_of(symbol, None)  # a new symbol starts at the engine's step (watch_symbol)
        except Exception:  # noqa: BLE001 - Enter builds it then, and says what failed
            self._drop_prepared()
            return
        self._prepared = (basis, view)
        ladder = self._pane("ladder", LadderPane)
        if ladder is not None:
            ladder.prepare(view)

    def _prepare_after_refresh(self) -> None:
        """``_prepare_symbol`` once the screen shows the frame in progress (one pending at a time)."""
        if not self._preparing:
            self._preparing = True
            self.call_after_refresh(self._prepare_symbol)

    def _messages_waiting(self) -> bool:
        """Messages wait for the App or the focused widget (keys that came in one read, a paste): the
        candidate is prepared once they are handled, not between them (a keystroke's frame ~6 ms later)."""
        focused = self.screen.focused if isinstance(self.screen, DeskScreen) else None
        pumps: list[Any] = [self] if focused is None else [self, focused]
        return any(not pump._message_queue.empty() for pump in pumps)  # noqa: SLF001 - Textual's queue

    def _take_prepared(self) -> SymbolView | None:
        """The view prepared for the symbol now shown (the picker's Enter, `]`), if it still fits: the same
        symbol at the engine's step, what it was built for unchanged, and not older than the last view."""
        kept, self._prepared = self._prepared, None
        if kept is None or self.grid is not None:
            return None
        basis, view = kept
        last = self.last_view
        if basis != self._prepare_basis(self.symbol) or (last is not None and view.now < last.now):
            return None
        return view

    def _drop_prepared(self) -> None:
        self._prepared = None
        ladder = self._pane("ladder", LadderPane)
        if ladder is not None:
            ladder.prepare(None)

    def render_tick(self, first: str | None = None) -> None:
        """Build one view and give it to the panes on screen. Never raises. With ``first`` (a key's
        change): the header and that pane now, the others after the screen showed them (``_show_later``)."""
        header = self._header()
        try:
            # Paused, or a replay catching up (its engine is mid-way, at a time not yet shown):
            # only the header moves.
            replay = self.replay
            bus = self._bus_health()
            if self.paused or self.warmup() is not None:
                self._history_frozen = self._history_frozen and self.warmup() is None  # a new warm-up
                if header is not None and not self._covered():
                    header.show(self.last_view, self.badge(), self.last_message, bus)
                return
            self._freeze_history()
            if self.recorder is not None and self.recorder.error is not None:
                self.report_once("recorder", f"Recording stopped: {self.recorder.error}")
            damage = replay.damage_note if replay is not None else None
            if damage:
                self.report_once("damaged", damage)
            view = self.build_view()
            self.last_view = view  # kept current under a modal: the positions view reads it
            if self._covered():
                return
            if header is not None:
                header.show(view, self.badge(), self.last_message, bus)
        except Exception as exc:  # noqa: BLE001 - a failed frame is reported once; the desk stays up
            self.report_once("tick", f"The display could not be updated: {exc!r}")
            return
        ladder = self._pane("ladder", LadderPane)
        if ladder is not None:
            ladder.mark_alert_prices(self.alerts.marked_prices(self.symbol, view.now))
        panes = self.visible_panes()
        if first is not None:  # that pane, else the header alone (a key's pane not on screen): the
            # heatmap in the ladder's place sums a new symbol's every column (50-100 ms) unless readied
            now = [p for p in panes if p.id == first]
            later = [p for p in panes if p not in now]
            if later:
                self._later = (view, time.monotonic())
                self.call_after_refresh(self._show_later, view, later)
            panes = now
        for pane in panes:
            self._show_pane(pane, view)
        if first is not None:
            self._in_next_frame(header, *panes)

    def _in_next_frame(self, *widgets: Widget | None) -> None:
        """A key's change in the screen's next frame. A widget's refresh reaches the screen in two hops of
        Textual's messages (the widget's idle, then the screen's queue); the command bar's close (a
        layout) resumed the screen's frame timer meanwhile, and the header's new symbol missed that
        frame in 8 of 30 `/` Enters, a frame later (bench/README.md, "The picker's slow presses").
        Posted now, the change is in the screen's queue before the layout is."""
        desk = self._desk_screen()
        for widget in widgets:
            if desk is not None and widget is not None:
                desk.post_message(messages.Update(widget))

    def _show_pane(self, pane: LinePane[Any], view: SymbolView) -> None:
        try:
            pane.show(view)
        except Exception as exc:  # noqa: BLE001 - one failing pane is reported; the others still draw
            self.report_once(f"pane:{pane.id}", f"The {pane.id} pane failed: {exc!r}")

    def _show_later(self, view: SymbolView, panes: list[LinePane[Any]]) -> None:
        """A key's other panes, one per turn of the loop: a symbol switch drew all of them in one
        handler (40-50 ms of CPU at stress before the screen changed). A newer frame stops it."""
        if not panes or self.last_view is not view or self._covered():
            if self._later is not None and self._later[0] is view:
                self._later = None
            return
        self._show_pane(panes[0], view)
        self.call_later(self._show_later, view, panes[1:])

    def _timer_tick(self) -> None:
        """The desk's periodic frame, skipped while a key's frame still hands out its other panes
        (at most one second): a full frame (70-85 ms at stress) queued between the key's header and
        the screen's refresh held the key's change off the screen."""
        if self._later is not None:
            view, since = self._later
            if self.last_view is view and time.monotonic() - since < 1.0:
                return
            self._later = None
        self.render_tick()
        if self._stepped is not None or self._prepare_target() is not None:
            self._prepare_after_refresh()  # the next symbol, as new as this frame (or dropped)

    async def on_event(self, event: events.Event) -> None:
        """A key that opens a command bar opens it before the next key is handed out.

        Textual hands each key from the terminal to the focused widget, and a key no widget binds comes
        back to the App's bindings afterwards, in the App's queue. Keys that arrive in one read (`/eth`
        Enter typed fast, or pasted) were all handed to the desk before the `/` came back: `t` cycled
        the theme, `h` swapped in the heatmap, digits jumped along the watchlist and Enter was lost.
        So a bar's key (`/`, `g`, `m`, as the keymap has them) runs its action as it arrives, and the
        bar takes the focus at once (``CommandBar.ask``): the keys behind it go to the bar's input.
        Inside a bar a key is the bar's as before (a `g` typed into the search is a letter)."""
        if isinstance(event, events.Key) and not event.is_forwarded and isinstance(self.screen, DeskScreen):
            if self._bar_keys is None:  # the bindings in force cost ~0.13 ms to gather: not at every key
                bindings = self.screen.active_bindings.items()
                self._bar_keys = frozenset(key for key, on in bindings if on.binding.action in BAR_ACTIONS)
            if event.key not in self._bar_keys or in_command_bar(self.screen.focused):
                await super().on_event(event)
                return
            active = self.screen.active_bindings.get(event.key)
            if active is not None and active.node is self and active.binding.action in BAR_ACTIONS:
                await self.run_action(active.binding.action)
                return
        await super().on_event(event)

    def notify(self, message: str, **kwargs: Any) -> None:
        """Textual's toast, placed above an open command bar (``lift_toasts``) before it shows, and
        again once the screen is laid out: a bar opening in the same turn of the loop has no height yet
        (the toast sat over the picker's count and input for its seconds, 1 press in 20 at 80x24)."""
        if self._bars and isinstance(self.screen, DeskScreen):
            lift_toasts(self.screen, self._bars)
            if any(bar.is_open for bar in self._bars):
                self.call_after_refresh(lift_toasts, self.screen, self._bars)
        super().notify(message, **kwargs)

    def _covered(self) -> bool:
        """A modal screen (help, the alerts log, the positions view, the demo offer) is on top: the
        desk behind it, dimmed, holds still until it closes. Textual draws a modal over a tinted copy
        of the whole screen beneath, so any pane that changed there redrew every cell of both screens
        (50-60 ms a frame at stress, 136-232 ms under a profiler). The command bar (`/`, `g`, `m`) is
        no modal: the desk keeps moving while it is open (``widgets/command_bar.py`` says why)."""
        return len(self.screen_stack) > 1

    def _mount_bars(self) -> AwaitMount | None:
        """The command bar's widgets, hidden, on the desk's screen: a second after the first frame, so
        the first frame does not wait for them, or at the first key that needs them. Mounted first
        among the screen's children: Textual numbers the painting order of a screen's widgets from
        its last child, so a bar placed last, once shown, moved every other widget's and the whole
        desk was repainted at each opening and close (7,200 cells at 160x45); first, it moves none."""
        if self._bars_mounting is None:
            desk = self._desk_screen()
            if desk is None or not desk.is_mounted:
                return None
            self._bars = (SymbolPicker(id="picker"), PromptBar(id="prompt"))
            self._bars_mounting = desk.mount(*self._bars, before=0)
        return self._bars_mounting

    async def _bar(self, kind: type[_Bar]) -> _Bar | None:
        """The command bar ``kind``, ready to ask; None while a modal screen is on top (the bar is on
        the desk's screen, beneath it). Another bar that is open is cancelled: one question at a time."""
        if not isinstance(self.screen, DeskScreen):
            return None
        if not self._bars_ready:
            mounting = self._mount_bars()
            if mounting is None:
                return None
            if not all(bar.is_mounted for bar in self._bars):  # awaited once mounted, a mount still
                await mounting  # lays out and repaints the whole screen (Textual's AwaitMount)
            self._bars_ready = True
        for bar in self._bars:
            if bar.is_open and not isinstance(bar, kind):
                bar.action_cancel()
        # The bar takes the flash line's place, as vim's command line its message: the bars are the
        # screen's first children, so a key's answer still on the line was drawn over the bar's input.
        line = self.screen.flash_line
        if line is not None and line.display:
            line.clear()
        return next(bar for bar in self._bars if isinstance(bar, kind))

    def _freeze_history(self) -> None:
        """Once the history is in (the demo's 25 h, a warm-up, a replay's catch-up): its objects leave
        the garbage collector's generations (``gc.freeze``). Most live as long as the desk, and a full
        collection passing over them took 90-110 ms at a time at stress, a stall of keys and frames.
        The youngest generation's threshold goes up to ``YOUNG_GC_THRESHOLD`` then (``_young_gc``)."""
        if not self._history_frozen and (self.data_seen or self._history_in):
            self._history_frozen = True
            gc.freeze()
            _young_gc()

    def visible_panes(self) -> list[LinePane[Any]]:
        """The panes on screen now: hidden panes (layout, size 0) are not asked to draw."""
        desk = self._desk_screen()
        if desk is None or not desk.is_mounted:
            return []
        return [p for p in desk.panes() if p.display and p.size.area > 0]

    def show_change(self, first: str | None = None) -> None:
        """Draw a key's effect at once (no wait for the tick); while paused, say it waits. ``first``:
        the pane the key changes most, drawn with the header before the others (``render_tick``)."""
        if self.paused:
            self.flash("Display paused: the change shows when you resume (p).", 3)
            return
        self.render_tick(first)

    def on_screen(self, pane_id: str) -> bool:
        return any(pane.id == pane_id for pane in self.visible_panes())

    def applies_here(self, pane_id: str, key: str) -> bool:
        """True when the pane a key acts on is on screen; otherwise says where the key applies."""
        if self.on_screen(pane_id):
            return True
        self.flash(f"{key} acts on the {pane_id}, which this layout does not show.", 4)
        return False

    def _fresh_view(self) -> SymbolView | None:
        """A view built now (even while paused) for a toast; None, reported once, if it fails."""
        try:
            return self.build_view()
        except Exception as exc:  # noqa: BLE001 - a failed frame is reported once; the desk stays up
            self.report_once("tick", f"The display could not be updated: {exc!r}")
            return None

    def report_once(self, key: str, message: str) -> None:
        """Notify about a failure once per kind; the log keeps every one."""
        self.log.error(message)
        if key not in self._reported:
            self._reported.add(key)
            self.notify(message, severity="error", timeout=20)

    def _desk_screen(self) -> DeskScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, DeskScreen):
                return screen
        return None

    def _header(self) -> DeskHeader | None:
        desk = self._desk_screen()
        return None if desk is None else desk.header

    def _pane(self, pane_id: str, kind: type[_W]) -> _W | None:
        """The desk's pane ``pane_id`` (of type ``kind``), or None before the desk is mounted: from
        the panes the screen found once (``DeskScreen.panes``), not a query of the DOM (each render
        tick asks for the tape and the ladder)."""
        desk = self._desk_screen()
        pane = next((p for p in desk.panes() if p.id == pane_id), None) if desk is not None else None
        return pane if isinstance(pane, kind) else None

    # --- symbol -----------------------------------------------------------------------------

    def watch_symbol(self, old: str, new: str) -> None:
        if old == new or not self.is_running:  # not is_mounted: on App a method
            return
        self.grid = None  # each symbol gets the engine's default step first
        self._heatmap_follows_zoom()
        self.source.set_focus(new)
        self.show_change(first="ladder")

    async def action_pick_symbol(self) -> None:
        picker = await self._bar(SymbolPicker)
        if picker is None:
            return

        def chosen(symbol: str | None) -> None:
            if symbol:
                self.symbol = symbol
            self._drop_prepared()  # taken by the switch, or not wanted

        picker.pick(list(self.source.symbols()), self.watchlist, chosen, self._prepare_after_refresh)

    def action_step_symbol(self, step: int) -> None:
        neighbour = self.watchlist_neighbour(step)
        if neighbour is not None:
            self._stepped = (step, time.monotonic())
            self.symbol = neighbour
            self._prepare_after_refresh()  # the next one that way, once this key's frame is out

    def watchlist_neighbour(self, step: int) -> str | None:
        """The symbol ``step`` places along the watchlist from the one shown (None: an empty watchlist)."""
        if not self.watchlist:
            return None
        if self.symbol in self.watchlist:
            return self.watchlist[(self.watchlist.index(self.symbol) + step) % len(self.watchlist)]
        return self.watchlist[0 if step > 0 else -1]

    def action_jump(self, number: int) -> None:
        if number <= len(self.watchlist):
            self.symbol = self.watchlist[number - 1]
        else:
            self.flash(f"The watchlist has {len(self.watchlist)} symbols.", 3)

    # --- display ----------------------------------------------------------------------------

    def action_cycle_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        drawn = self.last_view
        self.show_change(first="totals")
        if self.on_screen("totals"):  # its title names the window, drawn with the key's frame
            self._confirm("totals", self.window, f"Totals over {self.window}")
            return
        # No totals pane in this layout: the numbers on the flash line, from the key's frame's view
        view = self.last_view if self.last_view is not drawn else self._fresh_view()
        if view is not None:
            self.flash(realized_summary(view), 8)

    def _confirm(self, pane_id: str, shown: str, said: str) -> None:
        """A key's confirmation: none when the pane ``pane_id`` is on screen and its border (title or
        subtitle, set with the key's frame) says ``shown`` in whole words, as a trader reads it there;
        repeating it is noise. Otherwise (a narrow title that dropped the words, a subtitle the layout
        draws no bottom border for, a paused display) the flash line says it."""
        pane = self._pane(pane_id, LinePane) if self.on_screen(pane_id) else None
        if pane is None or f" {shown} " not in f" {border_words(pane)} ":
            self.flash(said, 2)

    def flash(self, message: str, seconds: float) -> None:
        """A key's short answer on the flash line over the footer (``widgets/flash.py``), drawn with
        the key's frame: a toast's mount waited ~40 ms for an idle loop. Warnings, errors and alerts
        stay toasts. Under a modal screen (the desk's line beneath it) or an open command bar, a toast."""
        desk = self._desk_screen()
        bar_open = any(bar.is_open for bar in self._bars)  # the line lies under it: a toast, lifted above
        line = desk.flash_line if desk is not None and not self._covered() and not bar_open else None
        if line is None or not line.is_mounted:
            self.notify(message, timeout=seconds)
        else:
            line.say(message, seconds)

    def action_zoom(self, direction: int) -> None:
        if not (self.on_screen("heatmap") or self.applies_here("ladder", "+/- zoom")):
            return
        current = self.grid
        if current is None and self.last_view is not None:
            current = self.last_view.levels.grid
        if not current or current <= 0:
            return
        self.grid = nice_step(current, direction)
        self._heatmap_follows_zoom()
        self.show_change()

    def _heatmap_follows_zoom(self) -> None:
        """The heatmap's rows follow the ladder's step once it is zoomed (None: the window's range)."""
        heatmap = self._pane("heatmap", HeatmapPane)
        if heatmap is not None:
            heatmap.zoom_step = self.grid

    def action_swap_heatmap(self) -> None:
        desk = self._desk_screen()
        if desk is None:
            return
        desk.toggle_class("-heat")
        self.flash("Heatmap in the ladder's place" if desk.has_class("-heat") else "Ladder back", 2)
        self.call_after_refresh(self.show_change)  # the pane has its size once the layout ran

    def action_heatmap_range(self) -> None:
        heatmap = self._pane("heatmap", HeatmapPane)
        if heatmap is not None and self.applies_here("heatmap", "r (range)"):
            range_name = heatmap.cycle_range()
            self.show_change()
            self._confirm("heatmap", range_name, f"Heatmap range: {range_name}")

    def action_heatmap_venue(self) -> None:
        heatmap = self._pane("heatmap", HeatmapPane)
        if heatmap is not None and self.applies_here("heatmap", "v (venue)"):
            venues, measured = (
                self.engine.heatmap_venues(self.symbol),
                self.engine.heatmap_has_measured(self.symbol),
            )
            shown = heatmap.cycle_venue(venues, measured)
            self.show_change()
            self._confirm("heatmap", shown, f"Heatmap: {shown}")

    def action_heatmap_scale(self) -> None:
        heatmap = self._pane("heatmap", HeatmapPane)
        if heatmap is not None and self.applies_here("heatmap", "s (scale)"):
            scale = heatmap.toggle_scale()
            self.show_change()
            self._confirm("heatmap", scale, f"Heatmap scale: {scale}")

    def action_toggle_follow(self) -> None:
        if not self.applies_here("ladder", "f (follow)"):
            return
        ladder = self._pane("ladder", LadderPane)
        if ladder is not None:
            ladder.follow = not ladder.follow  # its subtitle says "follow" or "scroll (home: follow)"
            shown = "· follow" if ladder.follow else "scroll"
            self._confirm("ladder", shown, f"Ladder follow {'on' if ladder.follow else 'off'}")

    async def action_set_target(self) -> None:
        prompt = await self._bar(PromptBar)
        if prompt is None:
            return
        price = self.last_view.market.last if self.last_view is not None else None
        chart = self._pane("risk", RiskChartPane)

        def chosen(answer: tuple[float | None] | None) -> None:
            if answer is not None and chart is not None:
                if self.paused:
                    chart.target = answer[0]  # its watcher draws it on the paused frame
                else:  # drawn once, with the key's frame: the watcher would plot the old view first
                    chart.set_reactive(RiskChartPane.target, answer[0])
                self.show_change(first="risk")
                if not self.on_screen("risk"):
                    self._say_at_risk(answer[0])

        prompt.prompt(
            "At-risk target price: 92000, 92k, +11% or -5% (empty clears)",
            lambda text: parse_target(text, price),
            chosen,
            placeholder="92000 or +11%",
        )

    def _say_at_risk(self, target: float | None) -> None:
        """No chart in this layout: the target's figure as a toast."""
        view = self._fresh_view()
        if target is None:
            self.flash("At-risk target cleared", 3)
        elif view is not None:
            self.flash(at_risk_note(view, target) + " (the chart is in the full layout)", 10)

    async def action_set_tape_min(self) -> None:
        if not self.applies_here("tape", "m (minimum size)"):
            return
        prompt = await self._bar(PromptBar)
        tape = self._pane("tape", TapePane)
        if prompt is None:
            return

        def chosen(answer: tuple[float] | None) -> None:
            if answer is not None and tape is not None:
                tape.min_usd = answer[0]
                self.show_change()

        prompt.prompt(
            "Show liquidations of at least (USD): 0, 10k, 250k, 1M", parse_amount, chosen, placeholder="250k"
        )

    def action_toggle_tape_scope(self) -> None:
        if not self.applies_here("tape", "c (tape scope)"):
            return
        tape = self._pane("tape", TapePane)
        if tape is not None:
            tape.current_only = not tape.current_only
            scope = "this symbol only" if tape.current_only else "all markets"
            self.show_change()
            shown = fmt.base_coin(self.symbol) if tape.current_only else "all markets"
            self._confirm("tape", shown, f"Tape: {scope}")

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.render_tick()

    def action_cycle_theme(self) -> None:
        names = self._theme_names or [self.theme]
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.flash(f"Theme: {self.theme}", 2)

    def watch_theme(self, _theme: str) -> None:
        header = self._header() if self.is_running else None
        if header is not None:
            header.refresh()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows(), self.help_notes()))

    def help_rows(self) -> list[tuple[str, str]]:
        """(keys, description) of every binding as bound now, remaps included."""
        rows = []
        for binding in DESK_BINDINGS:
            assert binding.id is not None
            if binding.id in REPLAY_BINDING_IDS and self.source.mode != "REPLAY":
                continue
            keys = self._key_overrides.get(binding.id, binding.key).split(",")
            shown = ", ".join(self.get_key_display(Binding(key.strip(), "")) for key in keys)
            description = binding.tooltip or binding.description
            if binding.id.startswith("watchlist_"):
                n = int(binding.id.rsplit("_", 1)[1])
                if n > len(self.watchlist):
                    continue  # an empty slot says nothing
                description = f"watchlist {n}: {self.watchlist[n - 1]}"
            rows.append((shown, description))
        return rows

    def help_notes(self) -> list[str]:
        return [
            "",
            "Levels on the ladder, the heatmap and the at-risk chart are ESTIMATED from open interest.",
            f"{sampled_venue_names()} push at most one liquidation per symbol per second: 'sampled'.",
            price_kind_note(),
            f'Mode: {self.source.mode}. Remap keys in the config: [ui] keys = {{ action = "key" }}.',
        ]

    # --- replay -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS:
            return self.source.mode == "REPLAY"
        return True

    def action_replay_pause(self) -> None:
        replay = self.replay
        if replay is None:
            return
        if replay.paused:
            replay.resume()
        else:
            replay.pause()
        self.show_change()

    def action_replay_speed(self, direction: int) -> None:
        replay = self.replay
        if replay is None:
            return
        speed = float(replay.speed or 1.0)
        faster = [s for s in REPLAY_SPEEDS if s > speed * 1.001]
        slower = [s for s in REPLAY_SPEEDS if s < speed * 0.999]
        new = (min(faster) if faster else speed) if direction > 0 else (max(slower) if slower else speed)
        replay.speed = new
        self.show_change()

    def action_replay_seek(self, seconds: int) -> None:
        replay = self.replay
        if replay is None:
            return
        replay.seek_by(seconds * 1000)
        self.show_change()
