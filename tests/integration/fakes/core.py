"""The shared core of the loopback fake exchanges: one aiohttp server on 127.0.0.1 per fake.

It owns what every venue has in common: the HTTP and websocket plumbing, the request log, the
fault switches (``fail_next``, ``not_found``, ``silence``, ``drop_connections``), the per-connection
subscription book-keeping and the market state (price, open interest, funding, book) the venue
modules render in their own wire formats. A venue module subclasses :class:`FakeExchange` and
supplies its REST routes, its websocket protocol (subscribe/ack, ping/pong) and frame builders.

Frames pushed with ``push(frame)`` go to the connections subscribed to the topic the frame belongs
to (as the real venue would route it); frames whose topic cannot be told (malformed text) go to
every connection. ``push(frame, topic=...)`` forces the topic, ``push(frame, broadcast=True)``
sends to every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from aiohttp import WSMsgType, web

FROZEN_MS: int | None = None  # set: every fake's clock stands at this time (two runs see the same history)


def now_ms() -> int:
    return int(time.time() * 1000) if FROZEN_MS is None else FROZEN_MS


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def fmt(value: float, step: float) -> str:
    """A number as the venue writes it: a decimal string with the precision of ``step``."""
    decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    return f"{value:.{decimals}f}"


class Request(NamedTuple):
    """One REST request the fake received (``query`` merges the query string and a JSON body)."""

    method: str
    path: str
    query: dict
    time: float


@dataclass
class Coin:
    """Market state for one base coin's USDT perpetual, shared by every view a venue serves."""

    base: str
    price: float
    open_interest: float  # base units
    funding_rate: float = 0.0001
    volume_24h: float = 0.0  # base units
    tick: float = 0.01
    lot: float = 0.001
    book_depth: int = 50
    book_id: int = 1_000_000  # venue update id of the book (Binance lastUpdateId, Bybit u, OKX seqId)
    bids: list[list[float]] = field(default_factory=list)
    asks: list[list[float]] = field(default_factory=list)

    def reset_book(self) -> None:
        """A deterministic book around the price: ``book_depth`` levels a side, one tick apart."""
        step = self.tick * 10
        mid = round(self.price / self.tick) * self.tick
        self.bids = [
            [round(mid - step * (i + 1), 10), round(self.lot * (10 + 7 * i), 10)]
            for i in range(self.book_depth)
        ]
        self.asks = [
            [round(mid + step * (i + 1), 10), round(self.lot * (12 + 5 * i), 10)]
            for i in range(self.book_depth)
        ]

    def apply_levels(self, bids: list, asks: list) -> None:
        for side, updates, reverse in ((self.bids, bids, True), (self.asks, asks, False)):
            levels = {price: qty for price, qty in side}
            for price, qty in updates:
                if qty == 0:
                    levels.pop(float(price), None)
                else:
                    levels[float(price)] = float(qty)
            side[:] = sorted(([p, q] for p, q in levels.items()), reverse=reverse)


# Realistic defaults (late 2026) for the three perps every fake lists.
DEFAULT_COINS = {
    "BTC": dict(
        price=95_000.0, open_interest=80_000.0, tick=0.1, lot=0.001, volume_24h=150_000.0, funding_rate=0.0001
    ),
    "ETH": dict(
        price=3_200.0,
        open_interest=2_000_000.0,
        tick=0.01,
        lot=0.001,
        volume_24h=3_000_000.0,
        funding_rate=0.00008,
    ),
    "SOL": dict(
        price=140.0,
        open_interest=9_000_000.0,
        tick=0.01,
        lot=0.01,
        volume_24h=25_000_000.0,
        funding_rate=-0.00005,
    ),
}


class WsConnection:
    """One accepted websocket: its path, its subscriptions and whether it answers pings."""

    def __init__(self, number: int, ws: web.WebSocketResponse, path: str, query: dict):
        self.number = number
        self.ws = ws
        self.path = path
        self.query = query
        self.topics: list[str] = []
        self.pings_received = 0
        self.pongs_received = 0
        self.conn_id = f"fake-{number}"

    async def send(self, payload: Any) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client went away since the check
            await self.ws.send_str(payload if isinstance(payload, str) else dumps(payload))


class FailRule:
    def __init__(
        self, pattern: str, status: int, times: int | None, retry_after: float | None, match: dict | None
    ):
        self.pattern = pattern
        self.status = status
        self.times = times  # None = forever
        self.retry_after = retry_after
        self.match = match or {}

    def applies(self, path: str, query: dict) -> bool:
        if not fnmatch.fnmatchcase(path, self.pattern):
            return False
        return all(str(query.get(key)) == str(value) for key, value in self.match.items())


class RestError(Exception):
    """Raised by a route handler to answer an error in the venue's shape."""

    def __init__(self, status: int, message: str = "", code: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class FakeExchange:
    """A fake of one venue on 127.0.0.1:<random free port>. ``FakeExchange("bybit")`` picks the venue."""

    venue: ClassVar[str] = ""
    _venues: ClassVar[dict[str, type[FakeExchange]]] = {}
    # REST and websocket prefixes the fake serves at its root, and other hosts of the venue's
    # client that are mapped under /~host/ (so nothing leaves loopback; they answer 404).
    rest_hosts: ClassVar[tuple[str, ...]] = ()
    ws_hosts: ClassVar[tuple[str, ...]] = ()
    other_hosts: ClassVar[tuple[str, ...]] = ()
    default_server_ping_interval: ClassVar[float | None] = None
    has_liquidation_feed: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.venue:
            FakeExchange._venues[cls.venue] = cls

    def __new__(cls, venue: str | None = None, **kwargs):
        if cls is FakeExchange:
            if venue not in FakeExchange._venues:
                raise ValueError(
                    f"no fake for venue {venue!r} (have: {', '.join(sorted(FakeExchange._venues))})"
                )
            cls = FakeExchange._venues[venue]
        return super().__new__(cls)

    def __init__(
        self,
        venue: str | None = None,
        *,
        coins: dict[str, dict] | None = None,
        server_ping_interval: float | None = -1.0,
    ):
        if venue is not None and venue != self.venue:
            raise ValueError(f"{type(self).__name__} fakes {self.venue!r}, not {venue!r}")
        self.coins: dict[str, Coin] = {}
        for base, spec in (coins or DEFAULT_COINS).items():
            self.add_coin(base, **spec)
        self.server_ping_interval = (
            self.default_server_ping_interval if server_ping_interval == -1.0 else server_ping_interval
        )
        self.port: int = 0
        self.requests: list[Request] = []
        self.ws_connections: int = 0
        self.pongs_received: int = 0  # answers to the server's websocket PING frames
        self.subscribe_log: list[tuple[float, int, str]] = []  # (time, connection number, topic)
        self.received_ws: list[tuple[int, str]] = []  # (connection number, raw text) every client message
        self._connections: list[WsConnection] = []
        self._fail_rules: list[FailRule] = []
        self._silent = False
        self._answer_pings = True
        self._subscribed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task] = set()

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> FakeExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drop_connections(abrupt=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- addresses
    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def url_rewrite(self) -> dict[str, str]:
        """Prefix -> replacement for every REST and websocket URL the venue's ccxt client uses."""
        mapping = {host: self.http_base for host in self.rest_hosts}
        mapping.update({host: self.ws_base for host in self.ws_hosts})
        for host in self.other_hosts:
            scheme, _, rest = host.partition("://")
            base = self.ws_base if scheme.startswith("ws") else self.http_base
            mapping[host] = f"{base}/~{rest}"
        return mapping

    # ----------------------------------------------------------------- market state
    def add_coin(self, base: str, **spec) -> Coin:
        coin = Coin(base=base.upper(), **spec)
        if not coin.volume_24h:
            coin.volume_24h = coin.open_interest * 2
        coin.reset_book()
        self.coins[coin.base] = coin
        return coin

    def market_id(self, base: str) -> str:
        """The venue's id of a base coin's USDT perpetual (BTCUSDT, BTC-USDT-SWAP, BTC)."""
        raise NotImplementedError

    def unified(self, base: str) -> str:
        """ccxt's unified symbol of a base coin's perpetual on this venue."""
        return f"{base.upper()}/USDT:USDT"

    def coin(self, symbol: str) -> Coin:
        """The coin behind a unified symbol, a venue id, a lower-case id or a bare base coin."""
        wanted = symbol.strip()
        for base, coin in self.coins.items():
            names = {base, f"{base}/USDT:USDT", self.unified(base), self.market_id(base)}
            if wanted in names or wanted.upper() in {name.upper() for name in names}:
                return coin
        raise KeyError(f"{self.venue} fake lists no market {symbol!r} (has {', '.join(self.coins)})")

    def coin_by_id(self, market_id: str | None) -> Coin | None:
        for base in self.coins:
            if market_id == self.market_id(base):
                return self.coins[base]
        return None

    def set_open_interest(self, symbol: str, base_amount: float) -> None:
        self.coin(symbol).open_interest = float(base_amount)

    def set_price(self, symbol: str, price: float) -> None:
        """Moves last, mark and index price and re-centres the book on it."""
        coin = self.coin(symbol)
        coin.price = float(price)
        coin.reset_book()

    def set_funding_rate(self, symbol: str, rate: float) -> None:
        self.coin(symbol).funding_rate = float(rate)

    # ----------------------------------------------------------------- faults
    def fail_next(
        self,
        path: str,
        status: int = 429,
        times: int | None = 1,
        retry_after: float | None = 2,
        *,
        match: dict | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` (fnmatch pattern; websocket handshakes too) answer
        ``status`` with a Retry-After header; ``match`` narrows to requests whose query/body has these items."""
        self._fail_rules.append(FailRule(path, status, times, retry_after, match))

    def not_found(self, path: str, *, match: dict | None = None) -> None:
        """``path`` answers 404 from now on."""
        self._fail_rules.append(FailRule(path, 404, None, None, match))

    def clear_faults(self) -> None:
        self._fail_rules.clear()

    def silence(self, silent: bool = True, *, answer_pings: bool = True) -> None:
        """Silent: sockets stay open, control messages (acks, pongs) are still answered but no data
        is pushed (push() drops frames). ``answer_pings=False`` also stops answering pings."""
        self._silent = silent
        self._answer_pings = answer_pings if silent else True

    @property
    def silent(self) -> bool:
        return self._silent

    async def drop_connections(self, *, abrupt: bool = False, code: int = 1001) -> int:
        """Closes every websocket from the server side (close frame ``code``, or a TCP abort when
        ``abrupt``); returns how many were closed."""
        connections, self._connections = self._connections, []
        for conn in connections:
            if abrupt:
                # A dead TCP link: no close frame. aiohttp exposes the transport only on the request.
                transport = conn.ws._req.transport if conn.ws._req is not None else None
                if transport is not None:
                    transport.abort()
            else:
                self._spawn(self._close_quietly(conn, code))
        await asyncio.sleep(0)
        return len(connections)

    async def _close_quietly(self, conn: WsConnection, code: int) -> None:
        with contextlib.suppress(Exception):
            await conn.ws.close(code=code, message=b"server going away")

    # ----------------------------------------------------------------- subscriptions
    @property
    def subscriptions(self) -> list[str]:
        """Topics currently subscribed, one entry per live connection and topic."""
        return [topic for conn in self._connections for topic in conn.topics]

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def subscribe_count(self, topic_substring: str) -> int:
        """How many times (over all connections ever) a matching topic was subscribed."""
        return sum(1 for _, _, topic in self.subscribe_log if topic_substring in topic)

    async def wait_subscribed(self, topic_substring: str, timeout: float = 10, *, count: int = 1) -> str:
        """Waits until a live connection is subscribed to a topic containing ``topic_substring``
        (with ``count``: until that many subscriptions to it were ever made); returns the topic."""

        def found() -> str | None:
            if count > 1 and self.subscribe_count(topic_substring) < count:
                return None
            for topic in self.subscriptions:
                if topic_substring in topic:
                    return topic
            return None

        async with self._subscribed:
            try:
                await asyncio.wait_for(self._subscribed.wait_for(found), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"{self.venue} fake: no subscription matching {topic_substring!r} within {timeout}s "
                    f"(subscribed: {self.subscriptions})"
                ) from None
        return found()

    async def _notify(self) -> None:
        async with self._subscribed:
            self._subscribed.notify_all()

    async def subscribe(self, conn: WsConnection, topic: str) -> None:
        if topic not in conn.topics:
            conn.topics.append(topic)
        self.subscribe_log.append((time.time(), conn.number, topic))
        await self._notify()

    async def unsubscribe(self, conn: WsConnection, topic: str) -> None:
        if topic in conn.topics:
            conn.topics.remove(topic)
        await self._notify()

    # ----------------------------------------------------------------- pushing
    def topics_of(self, frame: Any) -> list[str]:
        """The topics a data frame belongs to (venue-specific; [] = unknown)."""
        return []

    async def push(self, frame: Any, *, topic: str | None = None, broadcast: bool = False) -> int:
        """Sends ``frame`` (dict/list: JSON-encoded; str: verbatim) to the connections subscribed to
        ``topic`` (default: the frame's own topic), or to every connection when the topic is unknown
        or ``broadcast``. Returns the number of connections written to (0 while silenced)."""
        if self._silent:
            return 0
        if broadcast:
            targets = list(self._connections)
        else:
            topics = [topic] if topic is not None else self.topics_of(frame)
            if topics:
                targets = [c for c in self._connections if any(t in c.topics for t in topics)]
            else:
                targets = list(self._connections)
        text = frame if isinstance(frame, str) else dumps(frame)
        for conn in targets:
            await conn.send(text)
        return len(targets)

    async def push_many(self, frames: list[Any], **kwargs) -> int:
        total = 0
        for frame in frames:
            total += await self.push(frame, **kwargs)
        return total

    # ----------------------------------------------------------------- HTTP plumbing
    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        query = dict(request.query)
        is_ws = request.headers.get("Upgrade", "").lower() == "websocket"
        if not is_ws and request.can_read_body:
            body = await request.text()
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = {"_raw": body}
            if isinstance(parsed, dict):
                query.update(parsed)
        for rule in self._fail_rules:
            if rule.applies(path, query):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._fail_rules.remove(rule)
                if not is_ws:
                    self.requests.append(Request(request.method, path, query, time.time()))
                headers = {"Retry-After": str(int(rule.retry_after))} if rule.retry_after is not None else {}
                return self._error_response(rule.status, headers)
        if is_ws:
            if self.is_ws_path(path):
                return await self._serve_ws(request)
            return self._error_response(404)
        self.requests.append(Request(request.method, path, query, time.time()))
        route = self.rest_route(request.method, path, query)
        if route is None:
            return self._error_response(404)
        try:
            payload = route(query)
        except RestError as error:
            return self._error_response(error.status, message=error.message, code=error.code)
        return web.Response(text=dumps(payload), content_type="application/json")

    def _error_response(
        self, status: int, headers: dict | None = None, *, message: str = "", code: Any = None
    ) -> web.Response:
        body = self.error_body(status, message, code)
        if isinstance(body, str):  # venues that answer some errors in plain text (Hyperliquid)
            return web.Response(status=status, text=body, content_type="text/plain", headers=headers or {})
        return web.Response(
            status=status, text=dumps(body), content_type="application/json", headers=headers or {}
        )

    # Venue hooks -------------------------------------------------------------------------------
    def rest_route(self, method: str, path: str, query: dict):
        """The handler ``(query) -> JSON payload`` for a REST request, or None (404)."""
        return None

    def error_body(self, status: int, message: str, code: Any) -> Any:
        """The venue's error payload: JSON-encoded, or sent verbatim as text when a str."""
        return {"error": message or f"HTTP {status}"}

    def is_ws_path(self, path: str) -> bool:
        return False

    async def on_ws_open(self, conn: WsConnection) -> None:
        """Venue hook: subscriptions named in the URL, greetings."""

    async def on_ws_text(self, conn: WsConnection, text: str) -> None:
        """Venue hook: one text message from a client (subscribe, ping...)."""

    async def reply(self, conn: WsConnection, payload: Any) -> None:
        """A control-plane answer (ack, pong): sent even while silenced."""
        await conn.send(payload)

    async def pong(self, conn: WsConnection, payload: Any) -> None:
        conn.pings_received += 1
        if self._answer_pings:
            await conn.send(payload)

    # ----------------------------------------------------------------- websocket plumbing
    async def _serve_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, timeout=1.0, max_msg_size=10 * 1024 * 1024)
        await ws.prepare(request)
        self.ws_connections += 1
        conn = WsConnection(self.ws_connections, ws, request.path, dict(request.query))
        self._connections.append(conn)
        pinger = self._spawn(self._ping_loop(conn)) if self.server_ping_interval else None
        try:
            await self.on_ws_open(conn)
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.received_ws.append((conn.number, message.data))
                    await self.on_ws_text(conn, message.data)
                elif message.type == WSMsgType.PING:
                    conn.pings_received += 1
                    if self._answer_pings:
                        await ws.pong(message.data)
                elif message.type == WSMsgType.PONG:
                    conn.pongs_received += 1
                    self.pongs_received += 1
                elif message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if pinger is not None:
                pinger.cancel()
            if conn in self._connections:
                self._connections.remove(conn)
            await self._notify()
        return ws

    async def _ping_loop(self, conn: WsConnection) -> None:
        """Server-initiated websocket PING frames (Binance sends one every 3 minutes)."""
        while not conn.ws.closed:
            await asyncio.sleep(self.server_ping_interval)
            if self._answer_pings and not conn.ws.closed:
                try:
                    await conn.ws.ping(b"")
                except Exception:
                    return
