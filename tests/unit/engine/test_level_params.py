"""The engine reads its level settings through a protocol (it imports nothing above the domain): its
own defaults must be the config's, and the config's settings must be what it reads."""

from liqtui.config import LevelSettings
from liqtui.engine import Engine
from liqtui.engine.levels import DefaultLevelParams, LevelParams


def _numbers(params: LevelParams) -> tuple:
    weights = {float(k): float(v) for k, v in params.leverage_weights.items()}
    names = ("maintenance_margin", "long_share", "lookback_days", "half_life_hours")
    return weights, tuple(getattr(params, name) for name in names)


def test_the_engines_defaults_are_the_configs():
    assert _numbers(DefaultLevelParams()) == _numbers(LevelSettings())


def test_an_engine_takes_the_configs_level_settings():
    settings = LevelSettings(leverage_weights={"10": 1.0}, half_life_hours=2.0)
    assert Engine(settings).level_settings is settings
