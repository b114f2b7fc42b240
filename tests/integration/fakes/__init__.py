"""Loopback fake exchanges for the integration tests: ``FakeExchange("binanceusdm")`` etc.

Each fake is an aiohttp server on 127.0.0.1 (random free port) speaking one venue's real REST and
websocket wire format, so the real ccxt client talks to it through ``fake.url_rewrite``.
"""

from .core import Coin, FakeExchange, Request, RestError, WsConnection
from . import binanceusdm, bybit, hyperliquid, okx  # noqa: F401  (registers the venues)

__all__ = ["Coin", "FakeExchange", "Request", "RestError", "WsConnection"]
