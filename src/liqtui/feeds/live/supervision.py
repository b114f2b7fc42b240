"""How a venue's tasks fail and try again; nothing here delivers data.

- ``Timings``: every delay of a venue worker (tests shorten them); ``backoff_delay``: capped
  exponential backoff with jitter, forever at the cap.
- ``supervise``: runs a websocket body forever; a failure backs off and runs it again (ccxt.pro never
  retries: the next ``watch_*`` reconnects and resubscribes).
- ``RestPolicy``: one venue's REST manners. Every call waits at one gate; HTTP 429/418 honour
  Retry-After (and slow the venue's polling); an endpoint answering 404 is rested for
  ``not_found_retry`` and marks only its own data kind DOWN; a backfill step retries a few times.
- ``http_outcome``: what the last REST response of the current task said, filled by a hook on the
  ccxt exchange (``install_http_hook``) through a context variable, so concurrent tasks never mix
  their answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from liqtui.config import Settings
from liqtui.domain.text import printable
from liqtui.feeds.live.adapter import RestCall
from liqtui.feeds.live.errors import network_reason


@dataclass(frozen=True)
class Timings:
    """Every delay of the worker, in seconds; tests shorten them."""

    stale_after: float = 30.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    jitter: float = 0.2  # +- fraction of each backoff delay
    watchdog_tick: float = 1.0
    not_found_retry: float = 600.0  # an endpoint that answered 404 is tried again this late
    max_poll_slowdown: float = 8.0  # 429/418 multiply the poll interval, up to this factor
    book_min_interval: float = 0.25  # order-book snapshots per venue at most this often
    markets_reload: float = 3600.0  # after a market-list reload, the next one waits a 60th of this
    markets_reload_delay: float = 5.0  # a new market's first liquidation: wait, so a burst reloads once
    resubscribe_check: float = 300.0  # how often the top symbols by volume are looked at again (Bybit)
    history_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float) -> Timings:
        days = min(settings.levels.lookback_days, 30.0)
        values: dict[str, float] = {"stale_after": settings.stale_after_seconds, "history_days": days}
        values.update(overrides)
        return cls(**values)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def backoff_delay(attempt: int, timings: Timings, rng: random.Random = random._inst) -> float:
    """Capped exponential backoff with jitter: base x 2^(attempt-1), at most cap, +- jitter.

    A venue retries forever: the power stops at 2^1023 (the largest finite float power of two), so
    attempt 1,025 or 10^6 gives the cap instead of an OverflowError that ended the venue's task."""
    doublings = min(max(0, attempt - 1), 1023)
    delay = min(timings.backoff_cap, timings.backoff_base * 2.0**doublings)
    return max(0.0, delay * (1.0 + rng.uniform(-timings.jitter, timings.jitter)))


# ---------------------------------------------------------------------------------------- supervision
class Supervised(Protocol):
    """What ``supervise`` needs of the feed it runs bodies for."""

    timings: Timings
    frames_since_failure: int  # data frames since the last failure: > 0 means it was working

    def reconnecting(self, kind: str, exc: BaseException, attempt: int, delay: float) -> None: ...


async def supervise(feed: Supervised, kind: str, body: Callable[[], Awaitable[None]]) -> None:
    """Run a websocket body forever; on failure back off and run it again (= reconnect)."""
    attempt = 0
    while True:
        try:
            await body()
            attempt = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: said in the status, reconnected
            if feed.frames_since_failure > 0:
                attempt = 0  # it was working: a routine disconnect starts the count again
            attempt += 1
            feed.frames_since_failure = 0
            delay = backoff_delay(attempt, feed.timings)
            feed.reconnecting(kind, exc, attempt, delay)
            await asyncio.sleep(delay)


# ---------------------------------------------------------------------------------------- HTTP
@dataclass
class HttpOutcome:
    """What the last REST response of the current task said (filled by the ccxt hook)."""

    status: int | None = None
    url: str = ""
    retry_after: float | None = None


_http_outcome: contextvars.ContextVar[HttpOutcome | None] = contextvars.ContextVar(
    "liqtui_http", default=None
)


@contextlib.contextmanager
def http_outcome() -> Iterator[HttpOutcome]:
    """The REST responses of the calls made inside this block fill the outcome it yields."""
    outcome = HttpOutcome()
    token = _http_outcome.set(outcome)
    try:
        yield outcome
    finally:
        _http_outcome.reset(token)


def install_http_hook(exchange: Any) -> None:
    ccxt_on_rest_response = exchange.on_rest_response

    def on_rest_response(code, reason, url, method, headers, body, request_headers, request_body):  # noqa: ANN001
        outcome = _http_outcome.get()
        if outcome is not None:
            outcome.status, outcome.url, outcome.retry_after = int(code), url, None
            for key, value in (headers or {}).items():
                if key.lower() == "retry-after":
                    with contextlib.suppress(ValueError):
                        outcome.retry_after = float(value)
        return ccxt_on_rest_response(code, reason, url, method, headers, body, request_headers, request_body)

    exchange.on_rest_response = on_rest_response


def short_error(exc: BaseException) -> str:
    """The first line of an error, safe to print (it may quote what a server answered)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return printable(text)[:160]


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else url


def describe(exc: BaseException, outcome: HttpOutcome | None) -> str:
    """A failure in words: the HTTP status and path when the venue answered, the network reason else."""
    if outcome is not None and outcome.status is not None and outcome.status >= 400:
        words = {429: "rate limited", 418: "IP banned for a while", 404: "endpoint not found"}.get(
            outcome.status, "HTTP error"
        )
        return f"HTTP {outcome.status} {words}: {_path(outcome.url)}"
    reason = network_reason(exc)  # "DNS failed (ExchangeNotAvailable: ...)": the words first
    return (
        f"{reason} ({type(exc).__name__}: {short_error(exc)})"
        if reason
        else f"{type(exc).__name__}: {short_error(exc)}"
    )


@dataclass
class PollOutcome:
    """What one market poll achieved, per data kind ("oi", "ticker")."""

    succeeded: set[str] = field(default_factory=set)
    failed: dict[str, tuple[str, bool]] = field(default_factory=dict)  # kind -> (why, endpoint gone)
    retry_after: float | None = None  # seconds, when the venue said 429/418

    def fail(self, kinds: tuple[str, ...], why: str, down: bool = False) -> None:
        for kind in kinds:
            self.failed.setdefault(kind, (why, down))


class RestPolicy:
    """One venue's REST manners, shared by its market loading, polling and backfill."""

    def __init__(self, timings: Timings) -> None:
        self.timings = timings
        self.not_before = 0.0  # loop time before which no REST call is made (Retry-After)
        self._not_found_until: dict[str, float] = {}  # endpoint -> loop time of the next try

    async def gate(self) -> None:
        wait = self.not_before - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    def delay_after_failure(self, attempt: int, outcome: HttpOutcome | None = None) -> float:
        delay = backoff_delay(attempt, self.timings)
        if outcome is not None and outcome.status in (429, 418):
            retry_after = outcome.retry_after if outcome.retry_after is not None else delay
            delay = max(delay, retry_after)
            self.not_before = max(self.not_before, asyncio.get_running_loop().time() + retry_after)
        return delay

    def guarded_call(self, poll: PollOutcome) -> RestCall:
        """The ``call`` a venue's ``poll_market`` makes its requests through; failures land in ``poll``."""

        async def call(kind: str, endpoint: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
            kinds = tuple(kind.split("+"))
            loop = asyncio.get_running_loop()
            if self._not_found_until.get(endpoint, 0.0) > loop.time():
                poll.fail(kinds, f"HTTP 404 endpoint not found: {endpoint}", down=True)
                return None
            await self.gate()
            with http_outcome() as outcome:
                try:
                    result = await fn(*args)
                    poll.succeeded.update(kinds)
                    return result
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                    self._failed(poll, kinds, endpoint, describe(exc, outcome), outcome)
                    return None

        return call

    def _failed(
        self, poll: PollOutcome, kinds: tuple[str, ...], endpoint: str, description: str, outcome: HttpOutcome
    ) -> None:
        loop = asyncio.get_running_loop()
        if outcome.status == 404:
            self._not_found_until[endpoint] = loop.time() + self.timings.not_found_retry
            poll.fail(kinds, description, down=True)
        elif outcome.status in (429, 418):
            retry_after = outcome.retry_after if outcome.retry_after is not None else self.timings.backoff_cap
            self.not_before = max(self.not_before, loop.time() + retry_after)
            poll.retry_after = max(poll.retry_after or 0.0, retry_after)
            poll.fail(kinds, description)
        else:
            poll.fail(kinds, description)

    async def step(
        self, what: str, problems: list[str], fn: Callable[..., Awaitable[Any]], *args: Any
    ) -> Any:
        """One backfill call with a few retries; a 404 or a persistent error skips only this step."""
        for attempt in range(1, 4):
            await self.gate()
            with http_outcome() as outcome:
                try:
                    return await fn(*args)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                    if outcome.status == 404 or attempt == 3:
                        problems.append(f"{what}: {describe(exc, outcome)}")
                        return None
                    delay = self.delay_after_failure(attempt, outcome)
            await asyncio.sleep(delay)
        return None
