"""The venue registry (domain/venues.py) is the one place venue facts live.

docs/adding-a-venue.md lists what a fifth venue adds; these tests fail when a step is missed.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from liqtui.domain.events import FeedState, FeedStatus
from liqtui.domain.venues import VENUE_IDS, VENUES, MarginSource
from liqtui.feeds.demo.instruments import DEMO_PROFILE
from liqtui.feeds.live.source import ADAPTERS
from liqtui.ui.widgets.feed_health import no_public_liquidation_feed

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "liqtui"
# Where a venue's ccxt id may be written as a string literal: the registry, each venue's adapter, and
# the demo's invented per-venue figures. Everything else reads the registry.
ALLOWED = {Path("domain/venues.py"), Path("feeds/demo/instruments.py")} | {
    Path(f"feeds/live/{v}.py") for v in VENUE_IDS
}


def _venue_literals(path: Path, root: Path = PACKAGE) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [
        f"{path.relative_to(root)}:{tok.start[0]}: {tok.string}"
        for tok in tokens
        if tok.type == tokenize.STRING and tok.string.strip("\"'") in VENUES
    ]


def test_venue_ids_are_written_only_in_the_registry_the_adapters_and_demo_data():
    found = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE) not in ALLOWED
        for hit in _venue_literals(path)
    ]
    assert found == []


def test_the_scan_sees_a_literal_venue_id(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text('if venue == "okx":\n    pass\n', encoding="utf-8")
    assert _venue_literals(stray, tmp_path) == ['stray.py:1: "okx"']


def test_every_registry_venue_has_an_adapter_and_demo_figures():
    assert list(ADAPTERS) == list(VENUE_IDS)
    assert set(DEMO_PROFILE) == set(VENUE_IDS)
    for venue, adapter in ADAPTERS.items():
        info = VENUES[venue]
        assert (adapter.sampled, adapter.has_liquidations, adapter.no_liquidations_reason) == (
            info.sampled,
            info.has_liquidation_feed,
            info.no_feed_reason,
        )
        assert info.has_liquidation_feed == (info.price_kind is not None)
        assert info.margin_source in MarginSource


def test_no_public_feed_is_decided_by_the_registry_not_the_status_words():
    # Changed on purpose: Hyperliquid has a partial feed now, so no venue of the registry lacks one.
    quiet = FeedStatus("hyperliquid", FeedState.DOWN, 0, detail="", kind="liquidations")
    assert not no_public_liquidation_feed("hyperliquid", [quiet], has_data=True)
    worded = FeedStatus("bybit", FeedState.DOWN, 0, detail="no public liquidation feed", kind="liquidations")
    assert not no_public_liquidation_feed(
        "bybit", [worded], has_data=False
    )  # a feed that is down, not missing
    assert not no_public_liquidation_feed("demo-hyperliquid", [], has_data=False)


def test_hyperliquid_totals_are_a_floor_and_say_which_part():
    from liqtui.domain.venues import liquidations_are_floor

    assert [v for v in VENUES if liquidations_are_floor(v)] == ["binanceusdm", "okx", "hyperliquid"]
    assert VENUES["hyperliquid"].partial_note.startswith("partial: backstop") and liquidations_are_floor(
        "demo-hyperliquid"
    )
