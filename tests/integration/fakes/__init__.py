"""Loopback fake exchanges for the integration tests: ``FakeExchange("binanceusdm")`` etc.

Each fake is an aiohttp server on 127.0.0.1 (random free port) speaking one venue's real REST and
websocket wire format, so the REAL ccxt client talks to it through ``fake.url_rewrite``::

    async with FakeExchange("bybit") as fake:          # binanceusdm | bybit | okx | hyperliquid
        exchange = make_exchange("bybit", url_rewrite=fake.url_rewrite)
        await fake.wait_subscribed("allLiquidation.BTCUSDT")
        await fake.push(fake.liquidation_frame("BTC", side="long", price=94_000, qty=0.5))

State: ``set_price``, ``set_open_interest`` (base units), ``set_funding_rate`` (per 8 h), ``add_coin``;
BTC, ETH and SOL perps by default. Faults: ``fail_next`` (429 + Retry-After, also on websocket
handshakes), ``not_found``, ``silence``, ``drop_connections``. Observation: ``requests``,
``ws_connections``, ``subscriptions``, ``subscribe_count``, ``wait_subscribed``, ``received_ws``,
``pongs_received``. Frames in the venue's format: ``liquidation_frame``, ``liquidation_frame_multi``,
``liquidation_frames`` (always a list), ``book_update_frame`` and per-venue ticker/mark helpers
(see each venue module's docstring). Quantities given to frame helpers are in BASE units.
"""

from . import binanceusdm, bybit, hyperliquid, okx  # noqa: F401  (registers the venues)
from .core import Coin, FakeExchange, Request, RestError, WsConnection
from .hyperliquid import NoLiquidationFeed

__all__ = ["Coin", "FakeExchange", "NoLiquidationFeed", "Request", "RestError", "WsConnection"]
