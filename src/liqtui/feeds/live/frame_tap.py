"""Where liqtui taps into a ccxt.pro client, to work around ccxt 4.5.90 (docs/exchanges.md).

Two per-instance hooks, installed right after the exchange object is built and before any socket
exists (ccxt binds the message handler when it creates a client):

- ``exchange.handle_message`` is wrapped so every decoded frame goes to liqtui FIRST. Liquidation
  frames are consumed there (every entry of every frame, no ccxt cache in between); other frames
  continue to ccxt (order books, tickers, acknowledgements, pongs).
- every websocket ``Client`` gets a guarded ``handle_text_or_binary_message``: a frame that is not
  valid JSON (or that makes a ccxt handler raise) is counted and skipped. Unguarded, the exception
  escapes ccxt's receive callback and the connection silently stops being read.

ccxt is imported where a client is guarded (it is loaded then: the client is ccxt's), not with this
module: the live desk draws its first frame and applies its recording's history before it connects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liqtui.domain.text import printable

FrameTap = Callable[[Any, Any], bool]  # (client, decoded message) -> True when consumed


@dataclass
class FrameCounters:
    frames: int = 0  # decoded text frames
    malformed: int = (
        0  # frames not JSON or not a shape this venue sends, and liquidation entries no venue can mean
    )
    handler_errors: int = 0  # a ccxt handler raised on a frame (skipped)
    liquidations: int = 0  # liquidation entries delivered
    last_error: str = ""


def install(exchange: Any, tap: FrameTap, counters: FrameCounters) -> None:
    ccxt_handle_message = exchange.handle_message

    def handle_message(client: Any, message: Any) -> None:
        if not tap(client, message):
            ccxt_handle_message(client, message)

    exchange.handle_message = handle_message
    ccxt_client = exchange.client

    def client(url: str) -> Any:
        ws_client = ccxt_client(url)
        if not getattr(ws_client, "_liqtui_guarded", False):
            guard_client(ws_client, counters)
        return ws_client

    exchange.client = client


def guard_client(ws_client: Any, counters: FrameCounters) -> None:
    from ccxt.async_support.base.ws.client import json_parser
    from ccxt.async_support.base.ws.functions import is_json_encoded_object

    def handle_text_or_binary_message(data: Any) -> None:
        counters.frames += 1
        try:
            if isinstance(data, (bytes, bytearray)) and ws_client.decompressBinary:
                data = bytes(data).decode()
            message = json_parser.loads(data) if is_json_encoded_object(data) else data
        except Exception as exc:  # noqa: BLE001 - orjson/json decode errors, bad UTF-8: counted, shown
            counters.malformed += 1
            counters.last_error = f"malformed frame skipped: {type(exc).__name__}"
            return
        try:
            ws_client.on_message_callback(ws_client, message)
        except Exception as exc:  # noqa: BLE001 - a ccxt handler choked on this frame: counted, skipped, keep reading
            counters.handler_errors += 1
            counters.last_error = printable(f"frame skipped: {type(exc).__name__}: {exc}")[:200]

    ws_client.handle_text_or_binary_message = handle_text_or_binary_message
    ws_client._liqtui_guarded = True
