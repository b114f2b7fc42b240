"""Why a venue could not be reached, in a trader's words: no network, DNS failed, connection refused,
timed out. ccxt wraps the cause (``ExchangeNotAvailable`` / ``NetworkError`` around aiohttp's
``ClientConnectorError`` around ``socket.gaierror`` or ``ConnectionRefusedError``); the chain of
causes says what happened. No ccxt import at load: the desk's demo never loads ccxt.
"""

from __future__ import annotations

import errno
import socket

NO_NETWORK = "no network"
DNS_FAILED = "DNS failed"
REFUSED = "connection refused"
TIMED_OUT = "timed out"
NETWORK_REASONS = (NO_NETWORK, DNS_FAILED, REFUSED, TIMED_OUT)
_UNREACHABLE = {errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH}


def network_reason(exc: BaseException) -> str | None:
    """One of NETWORK_REASONS when the exception (or any cause under it) says which; else None."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        reason = _reason_of(cause)
        if reason is not None:
            return reason
        cause = cause.__cause__ or cause.__context__
    return None


def _reason_of(exc: BaseException) -> str | None:
    if isinstance(exc, socket.gaierror):
        return NO_NETWORK if exc.errno == socket.EAI_AGAIN else DNS_FAILED
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, TimeoutError) or any(k.__name__ == "RequestTimeout" for k in type(exc).__mro__):
        return TIMED_OUT  # asyncio.TimeoutError is TimeoutError; ccxt's RequestTimeout matched by name
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return NO_NETWORK
    return None
