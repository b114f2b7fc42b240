"""Fixtures of the integration tests: loopback fake exchanges and real ccxt.pro clients aimed at them.

``fake_exchange(venue, **kwargs)`` starts a :class:`fakes.FakeExchange` on 127.0.0.1 (closed after
the test); ``ccxt_client(fake, **options)`` builds the venue's real ccxt.pro client through
``liqtui.feeds.live.exchange.make_exchange`` with the fake's ``url_rewrite`` (closed after the test,
before the fake). Tests import the fakes as ``from fakes import FakeExchange``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest's default import mode puts this directory on sys.path for the tests in it; doing it here
# too lets helper modules import ``fakes`` regardless of how pytest was started.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fakes import FakeExchange  # noqa: E402


@pytest.fixture
async def fake_exchange():
    started: list[FakeExchange] = []

    async def start(venue: str, **kwargs) -> FakeExchange:
        fake = FakeExchange(venue, **kwargs)
        await fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in reversed(started):
        await fake.close()


@pytest.fixture
async def ccxt_client(fake_exchange):
    from liqtui.feeds.live.exchange import make_exchange

    clients = []

    def build(fake: FakeExchange, **options):
        # ccxt sleeps timeout_on_exit (250 ms) in close() for TLS shutdown; loopback has no TLS.
        exchange = make_exchange(
            fake.venue, url_rewrite=fake.url_rewrite, options={"timeout_on_exit": 0, **options}
        )
        clients.append(exchange)
        return exchange

    yield build
    for exchange in clients:
        await exchange.close()


@pytest.fixture
def nats_server(tmp_path):
    """A started nats-server with JetStream (``natsserver.NatsServer``), stopped after the test."""
    from natsserver import NatsServer

    server = NatsServer(tmp_path / "nats-server-root")
    server.start()
    yield server
    server.stop()
