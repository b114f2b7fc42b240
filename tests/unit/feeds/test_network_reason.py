"""Why a venue could not be reached: the cause under ccxt's wrapper, in a trader's words."""

from __future__ import annotations

import errno
import socket

import aiohttp
import ccxt
import pytest

from liqtui.feeds.live.errors import network_reason


def _wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    """``outer`` raised from ``inner`` the way ccxt raises from aiohttp."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as raised:
        return raised


def _connector(os_error: OSError) -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("fapi.binance.com", 443, True, True, None, None, None)
    return _wrapped(os_error, aiohttp.ClientConnectorError(key, os_error))


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "DNS failed"),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "no network"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "connection refused"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "no network"),
    ],
)
def test_ccxt_network_errors_say_what_happened_underneath(cause, words):
    error = _wrapped(
        _connector(cause), ccxt.ExchangeNotAvailable("binanceusdm GET https://fapi.binance.com/x")
    )
    assert network_reason(error) == words
    assert network_reason(_wrapped(_connector(cause), ccxt.NetworkError("binanceusdm"))) == words


def test_timeouts_are_timeouts():
    assert (
        network_reason(ccxt.RequestTimeout("binanceusdm GET https://x request timed out (10000 ms)"))
        == "timed out"
    )
    assert network_reason(_wrapped(TimeoutError(), ccxt.NetworkError("x"))) == "timed out"


def test_anything_else_is_not_called_a_network_problem():
    assert network_reason(ccxt.ExchangeError('binanceusdm {"code":-1121}')) is None
    assert network_reason(ValueError("bad json")) is None
