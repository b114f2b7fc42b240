"""Webhooks through the real apprise to a real HTTP server on 127.0.0.1: batched per symbol,
retried after a 500, nothing lost, and the caller never waits."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from liqtui.domain.alerts import Alert
from liqtui.domain.events import Side
from liqtui.feeds.webhooks import WebhookPusher, message

T0 = 1_769_860_800_000


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with server.lock:  # type: ignore[attr-defined]
            fail = server.fail_next > 0  # type: ignore[attr-defined]
            server.fail_next -= fail  # type: ignore[attr-defined]
            server.posts.append((500 if fail else 200, json.loads(body)))  # type: ignore[attr-defined]
        self.send_response(500 if fail else 200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    httpd.lock, httpd.posts, httpd.fail_next = threading.Lock(), [], 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _alert(symbol: str, usd: float, t: int) -> Alert:
    coin = symbol.split("/")[0]
    return Alert(
        t,
        "big",
        "liquidation",
        "bybit",
        symbol,
        Side.LONG,
        usd,
        100.0,
        1,
        f"{coin} long liquidated ${usd / 1000:.0f}k at 100.00 on bybit",
        at=t,
    )


def _url(httpd) -> str:
    return f"json://127.0.0.1:{httpd.server_address[1]}/hook"


def test_alerts_are_batched_per_symbol_retried_on_500_and_none_is_lost(server):
    server.fail_next = 2  # the first two posts are refused
    pusher = WebhookPusher([_url(server)], batch_seconds=3600, backoff_s=(0.01,))
    alerts = [_alert("BTC/USDT:USDT", 300_000 + i, T0 + i) for i in range(3)] + [
        _alert("ETH/USDT:USDT", 250_000, T0 + 9)
    ]
    for alert in alerts:
        pusher.add(alert)
    assert server.posts == [] and pusher.pending == 4  # gathered, not sent one by one
    assert pusher.close(timeout=30)
    delivered = [body for status, body in server.posts if status == 200]
    assert [status for status, _ in server.posts].count(500) == 2 and pusher.failures == 2
    assert sorted(b["title"] for b in delivered) == ["liqtui: BTC, 3 alerts", "liqtui: ETH alert"]
    lines = [line for b in delivered for line in b["message"].splitlines()]
    assert sorted(lines) == sorted(f"{a.text} [big]" for a in alerts)  # every alert, once
    assert pusher.sent == 2 and pusher.pending == 0


def test_adding_never_waits_for_a_service_that_is_down():
    pusher = WebhookPusher(["json://127.0.0.1:9/nothing-listens"], batch_seconds=0, backoff_s=(0.05,))
    for i in range(200):
        pusher.add(_alert("BTC/USDT:USDT", 300_000, T0 + i))  # returns at once: the thread sends
    assert not pusher.close(timeout=0.5)  # still refused: said, not hidden
    assert pusher.failures >= 1 and "127.0.0.1" in pusher.last_error
    assert pusher.pending == 200  # kept for the next attempt, none dropped


def test_a_url_apprise_does_not_know_is_refused_without_its_token():
    with pytest.raises(ValueError, match="webhook nosuch://host/...: not a URL apprise") as info:
        WebhookPusher(["nosuch://host/SECRET-TOKEN"])
    assert "SECRET-TOKEN" not in str(info.value)


def test_one_alert_is_its_own_words_and_an_update_says_so():
    update = Alert(
        T0,
        "burst",
        "burst",
        None,
        "SOL/USDT:USDT",
        Side.SHORT,
        2e6,
        100.0,
        40,
        "SOL burst: so far",
        True,
        T0 + 5,
    )
    assert message([update]) == ("liqtui: SOL alert", "update: SOL burst: so far [burst]")
    assert message([update, update], "DEMO")[0] == "liqtui DEMO: SOL, 2 alerts"  # simulated: said so
