"""Building one ccxt.pro client per venue, with the config's options and URL rewrites.

One exchange object per venue is shared by every data kind of that venue so that ccxt's rate
limiter sees every request (docs/architecture.md, one exchange object per venue).

``url_rewrite`` maps URL prefixes to replacements for every REST and websocket URL the client
uses, after ccxt's ``{hostname}`` substitution: mirrors, proxies, and the loopback fake exchanges
of the tests all go through it. Example for Binance USD-M::

    {"https://fapi.binance.com": "http://127.0.0.1:8001", "wss://fstream.binance.com": "ws://127.0.0.1:8001"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liqtui.domain.venues import VENUE_IDS

SUPPORTED_VENUES = VENUE_IDS


def rewrite_url(url: str, hostname: str | None, mapping: Mapping[str, str]) -> str:
    if hostname and "{hostname}" in url:
        url = url.replace("{hostname}", hostname)
    # The longest matching prefix wins, so a specific rule can override a broad one.
    for prefix in sorted(mapping, key=len, reverse=True):
        if url.startswith(prefix):
            return mapping[prefix] + url[len(prefix) :]
    return url


def rewrite_urls(tree: Any, hostname: str | None, mapping: Mapping[str, str]) -> Any:
    """A copy of ccxt's nested ``urls['api']`` structure with every URL string rewritten."""
    if isinstance(tree, str):
        return rewrite_url(tree, hostname, mapping)
    if isinstance(tree, dict):
        return {key: rewrite_urls(value, hostname, mapping) for key, value in tree.items()}
    if isinstance(tree, list):
        return [rewrite_urls(value, hostname, mapping) for value in tree]
    return tree


def make_exchange(
    venue: str, *, url_rewrite: Mapping[str, str] | None = None, options: Mapping[str, Any] | None = None
):
    """A ccxt.pro client for ``venue`` (a ccxt id) with ``options`` and ``url_rewrite`` applied."""
    import ccxt.pro as ccxtpro

    if venue not in SUPPORTED_VENUES:
        raise ValueError(f"unsupported venue {venue!r} (supported: {', '.join(SUPPORTED_VENUES)})")
    config: dict[str, Any] = {"enableRateLimit": True, "newUpdates": False}
    config.update(options or {})
    exchange = getattr(ccxtpro, venue)(config)
    if url_rewrite:
        urls = dict(exchange.urls)
        urls["api"] = rewrite_urls(urls["api"], exchange.hostname, url_rewrite)
        exchange.urls = urls
    return exchange
