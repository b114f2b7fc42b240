"""The pure engine: deterministic state built from normalized events. Time is passed in; no I/O.

Public surface (built by the engine issue):
- ``Engine.apply(event)`` takes any ``liqtui.domain`` event;
- ``Engine.view(symbol, now_ms, window=..., grid=...)`` returns a ``views.SymbolView``;
- ``Engine.at_risk(symbol, price, target)`` the ESTIMATED notional between price and target.
"""
