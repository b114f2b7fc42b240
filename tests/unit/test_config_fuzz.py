"""Property-based tests of the config loader: any TOML document in, either
settings whose every number is inside its declared range or one ConfigError out, never another
exception."""

from __future__ import annotations

import json
import math
import os
import typing
from dataclasses import fields, is_dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqtui.config import ConfigError, LevelSettings, Settings, UISettings, VenueSettings, load_settings

# CI runs the same examples every time (a failure there reproduces); a developer's runs explore.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)

special_texts = st.sampled_from(
    ["", "~", "~nosuchuser/x.sqlite", "a\x00b", "dark", "light", "BTC", "10x", "auto", "../x"]
)
integers = st.integers(min_value=-(2**63), max_value=2**63 - 1)  # what TOML can hold
special_numbers = st.sampled_from([0, 0.0, -0.0, 1e-9, 0.5, 1, 2, 30, 1e12, 1e300])
scalars = st.one_of(
    st.booleans(), integers, st.floats(), special_numbers, st.text(max_size=12), special_texts
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
random_keys = st.dictionaries(st.text(max_size=10), values, max_size=2)
numbers = st.one_of(st.floats(), integers, special_numbers)
# Path-like text: ~user forms, NUL, dots and slashes come up often.
texts = st.one_of(st.text(max_size=12), special_texts, st.text(alphabet="~/.\x00a", max_size=6))
# Of the key's own type (to reach the range checks, and whole documents that load).
TYPED = {
    float: numbers,
    str: texts,
    bool: st.booleans(),
    list[str]: st.lists(texts, max_size=4),
    dict[str, float]: st.dictionaries(st.one_of(texts, numbers.map(str)), numbers, max_size=5),
    dict[str, str]: st.dictionaries(texts, texts, max_size=3),
}


def _valid(f, tp) -> st.SearchStrategy:
    """Values the key takes (so that documents of several keys load often enough to test them)."""
    span = f.metadata.get("range")
    if f.name == "leverage_weights":
        return st.dictionaries(st.integers(2, 1000).map(str), st.floats(0.01, 100), min_size=1, max_size=5)
    if span is not None:
        return st.floats(span.low, span.high, exclude_min=span.low_open, exclude_max=span.high_open)
    if f.name == "theme":
        return st.sampled_from(["dark", "light", "ansi"])
    if "choices" in f.metadata:
        return st.sampled_from(f.metadata["choices"])
    return TYPED.get(tp, values)


def _any(f, tp) -> st.SearchStrategy:
    """Mostly values the key takes, else of its type, else anything."""
    return st.one_of(_valid(f, tp), _valid(f, tp), TYPED.get(tp, values), values)


def _table(cls: type) -> st.SearchStrategy:
    """A table of ``cls``'s keys (each present or not) with any values, sometimes a stray key."""
    hints = typing.get_type_hints(cls)
    known = {f.name: _any(f, hints[f.name]) for f in fields(cls) if not f.metadata.get("internal")}
    known.update({"levels": _table(LevelSettings), "ui": _table(UISettings)} if cls is Settings else {})
    if cls is Settings:
        venue = _table(VenueSettings)
        names = st.sampled_from(["binanceusdm", "bybit", "okx", "hyperliquid", "kraken", ""])
        known["venues"] = st.dictionaries(names, st.one_of(venue, venue, values), max_size=3)
    table = st.fixed_dictionaries({}, optional=known)
    return st.one_of(table, table, table, st.builds(lambda t, extra: {**extra, **t}, table, random_keys))


def _toml(value) -> str:
    """A value as TOML spells it (a string that TOML cannot hold makes the document invalid TOML,
    which the loader must also turn into one ConfigError)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _document(doc: dict) -> str:
    return "".join(f"{_toml(str(k))} = {_toml(v)}\n" for k, v in doc.items())


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A config file path, and XDG dirs of the test's own (no user theme files)."""
    root = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(root / "cfg"))
        mp.setenv("XDG_DATA_HOME", str(root / "data"))
        yield root / "config.toml"


def _load(path, text: str) -> Settings | None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load_settings(str(path))
    except ConfigError as exc:
        assert str(exc).startswith(str(path))
        return None


def _usable(loaded: Settings) -> None:
    """Accepted settings work: every number in its range, the recording path can be opened."""
    _numbers_in_range(loaded)
    assert "\x00" not in str(loaded.recording_path)


def _numbers_in_range(obj) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if is_dataclass(value):
            _numbers_in_range(value)
        elif isinstance(value, dict) and value and all(is_dataclass(v) for v in value.values()):
            for item in value.values():
                _numbers_in_range(item)
        elif "range" in f.metadata:
            for number in value.values() if isinstance(value, dict) else [value]:
                assert number in f.metadata["range"], (f.name, number)


@FUZZ
@given(doc=_table(Settings))
def test_any_document_of_the_known_keys_gives_settings_or_one_config_error(place, doc):
    loaded = _load(place, _document(doc))
    if loaded is not None:
        _usable(loaded)


def _key_paths(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every key of the file with a strategy of its values: one key alone reaches every rule."""
    hints, found = typing.get_type_hints(cls), []
    for f in fields(cls):
        tp = hints[f.name]
        if f.metadata.get("internal"):
            continue
        if is_dataclass(tp):
            found += _key_paths(tp, (*prefix, f.name))
        elif f.name == "venues":
            found += _key_paths(VenueSettings, (*prefix, "venues", "okx"))
        else:
            found.append(((*prefix, f.name), _any(f, tp)))
    return found


def _nested(path: tuple[str, ...], value) -> dict:
    for name in reversed(path):
        value = {name: value}
    return value


@FUZZ
@given(data=st.data())
def test_any_value_of_any_one_key_gives_settings_or_one_config_error(place, data):
    path, strategy = data.draw(st.sampled_from(_key_paths(Settings)))
    loaded = _load(place, _document(_nested(path, data.draw(strategy))))
    if loaded is not None:
        _usable(loaded)


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_gives_settings_or_one_config_error(place, text):
    loaded = _load(place, text)
    if loaded is not None:
        _usable(loaded)
