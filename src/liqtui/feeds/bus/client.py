"""Connecting to the NATS bus and the JetStream stream it keeps (docs/bus.md). nats-py is imported
here and only here, when a bus is used: without one liqtui never loads it.

    link = BusLink(settings.bus, name="liqtui collect")
    await link.open()                     # BusError: one line (unreachable, credentials, TLS)
    await ensure_stream(link, stream_spec(settings.bus, demo=False))   # collector: create or check
    info = await find_stream(link, spec)  # readers: BusError when no collector made it

Once open, the connection reconnects forever; ``link.state`` says how it is (connected,
reconnecting with the attempt, closed) for the desk's bus chip and the health lines.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liqtui.config import BusSettings

CONNECT_TIMEOUT_S = 5.0
RECONNECT_WAIT_S = 1.0
JS_TIMEOUT_S = 15.0  # JetStream API answers (stream info, consumer creation) on a loaded server
PENDING_BYTES = 64 * 1024 * 1024  # what a publisher buffers while the bus reconnects
DEMO_SUFFIX = "_DEMO"


class BusError(Exception):
    """The bus cannot be used; the message is one line for the user (exit code 2)."""


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_s: float
    max_bytes: int  # -1: no limit
    duplicate_window_s: float


def stream_spec(bus: BusSettings, *, demo: bool) -> StreamSpec:
    """The stream of live data (subjects ``liqtui.>``) or of the demo (``liqtui-demo.>``): a desk
    never mixes them, as a recording never holds both."""
    max_age = bus.max_age_hours * 3600
    return StreamSpec(
        name=bus.stream + (DEMO_SUFFIX if demo else ""),
        subjects=(f"{subject_root(demo)}.>",),
        max_age_s=max_age,
        max_bytes=int(bus.max_bytes_mb * 1024 * 1024) if bus.max_bytes_mb else -1,
        duplicate_window_s=min(bus.duplicate_window_seconds, max_age),
    )


def subject_root(demo: bool) -> str:
    return "liqtui-demo" if demo else "liqtui"


def redacted_url(url: str) -> str:
    """The URL without credentials, to name in messages."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url.rpartition("@")[2]


class BusLink:
    """One NATS connection and what is known about its health."""

    def __init__(self, bus: BusSettings, *, name: str) -> None:
        self.bus = bus
        self.name = name
        self.nc: Any = None
        self.js: Any = None
        self.state = "connecting"  # connected | reconnecting | closed
        self.since = time.time()
        self.attempts = 0
        self.last_error = ""

    def _options(self) -> dict[str, Any]:
        bus = self.bus
        options: dict[str, Any] = {"name": self.name, "connect_timeout": CONNECT_TIMEOUT_S}
        if bus.user:
            options.update(user=bus.user, password=bus.password)
        if bus.token:
            options["token"] = bus.token
        if bus.creds_file:
            if not Path(bus.creds_file).expanduser().is_file():
                raise BusError(f"[bus] creds_file: {bus.creds_file} is not a readable file")
            options["user_credentials"] = str(Path(bus.creds_file).expanduser())
        if bus.tls_ca:
            try:
                options["tls"] = ssl.create_default_context(cafile=str(Path(bus.tls_ca).expanduser()))
            except (OSError, ssl.SSLError) as exc:
                raise BusError(f"[bus] tls_ca: cannot read {bus.tls_ca}: {exc}") from None
        return options

    async def open(self) -> None:
        """Connect; BusError with the reason when the bus cannot be reached or refuses us."""
        import nats

        url = self.bus.url
        where = redacted_url(url)
        if not url.startswith(("nats://", "tls://", "ws://", "wss://")):
            raise BusError(f"bus URL {where!r}: expected nats://HOST:PORT (or tls://)")
        options = self._options()
        errors: list[BaseException] = []

        async def probe_error(exc: BaseException) -> None:
            errors.append(exc)

        # A first connection that does not retry, so that a wrong address or password is one clear
        # message now, not a retry loop; the one kept reconnects forever.
        try:
            probe = await nats.connect(
                url, allow_reconnect=False, max_reconnect_attempts=1, error_cb=probe_error, **options
            )
        except Exception as exc:  # noqa: BLE001 - nats-py raises many types; each becomes one line
            raise BusError(
                f"cannot use the bus at {where}: {_reason(errors[-1] if errors else exc)}"
            ) from None
        await probe.close()
        self.nc = await nats.connect(
            url,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=RECONNECT_WAIT_S,
            pending_size=PENDING_BYTES,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            closed_cb=self._on_closed,
            **options,
        )
        self.js = self.nc.jetstream(timeout=JS_TIMEOUT_S)
        self._set("connected")

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state, self.since = state, time.time()

    async def _on_error(self, exc: BaseException) -> None:
        self.last_error = _reason(exc)
        if self.state == "reconnecting":
            self.attempts += 1

    async def _on_disconnected(self) -> None:
        self._set("reconnecting")

    async def _on_reconnected(self) -> None:
        self.attempts = 0
        self._set("connected")

    async def _on_closed(self) -> None:
        self._set("closed")

    def describe(self) -> str:
        """'connected', 'reconnecting (attempt 3: connection refused)', 'closed'."""
        if self.state == "reconnecting" and self.last_error:
            return f"reconnecting (attempt {self.attempts + 1}: {self.last_error})"
        return self.state

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), 5)
            except Exception:  # noqa: BLE001 - closing: whatever the bus says, we are done with it
                await self.nc.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().strip("'\"")
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or text})"
    if "authorization violation" in text.lower() or "authentication" in text.lower():
        return "the server refused the credentials (authorization violation); check [bus] user/password/token/creds_file"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return text.removeprefix("nats: ") or type(exc).__name__


def _config_of(spec: StreamSpec) -> Any:
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        max_age=spec.max_age_s,
        max_bytes=spec.max_bytes,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=spec.duplicate_window_s,
    )


async def ensure_stream(link: BusLink, spec: StreamSpec) -> str:
    """Create the stream, or check that the one there has these settings; BusError naming each
    difference otherwise (another collector's config, or something else's stream). Returns
    "created" or "found"."""
    from nats.js.errors import NotFoundError

    try:
        info = await link.js.stream_info(spec.name)
    except NotFoundError:
        try:
            await link.js.add_stream(_config_of(spec))
        except Exception as exc:  # noqa: BLE001 - the server's words (subjects overlap another stream...)
            raise BusError(f"cannot create the stream {spec.name}: {_reason(exc)}") from None
        return "created"
    except Exception as exc:  # noqa: BLE001 - no JetStream on the server, no permission...
        raise BusError(f"cannot read the stream {spec.name}: {_reason(exc)}") from None
    differences = _differences(info.config, spec)
    if differences:
        raise BusError(
            f"the bus already has a stream {spec.name} with other settings ({'; '.join(differences)}); "
            "liqtui does not change it: make [bus] match, or set [bus] stream to another name"
        )
    return "found"


def _differences(config: Any, spec: StreamSpec) -> list[str]:
    have = {
        "subjects": tuple(config.subjects or ()),
        "max_age": float(config.max_age or 0),
        "max_bytes": int(config.max_bytes if config.max_bytes is not None else -1),
        "duplicate_window": float(config.duplicate_window or 0),
        "retention": str(getattr(config.retention, "value", config.retention)),
    }
    want = {
        "subjects": spec.subjects,
        "max_age": spec.max_age_s,
        "max_bytes": spec.max_bytes,
        "duplicate_window": spec.duplicate_window_s,
        "retention": "limits",
    }
    return [f"{key} {have[key]!r}, liqtui wants {want[key]!r}" for key in want if have[key] != want[key]]


async def find_stream(link: BusLink, spec: StreamSpec) -> Any:
    """The stream's info; BusError when it is not there (no collector has run on this bus) or is
    not liqtui's (something else made a stream of that name, for other subjects)."""
    from nats.js.errors import NotFoundError

    name = spec.name
    try:
        info = await link.js.stream_info(name)
    except NotFoundError:
        raise BusError(
            f"the bus at {redacted_url(link.bus.url)} has no stream {name}: start `liqtui collect --bus URL` first"
        ) from None
    except Exception as exc:  # noqa: BLE001 - no JetStream on the server, no permission...
        raise BusError(f"cannot read the stream {name}: {_reason(exc)}") from None
    have = list(info.config.subjects or ())
    if not set(spec.subjects) <= set(have):
        raise BusError(
            f"the stream {name} on the bus is not a liqtui collector's (its subjects are {have}, "
            f"liqtui's are {list(spec.subjects)}): set [bus] stream to the one `liqtui collect` made"
        )
    return info
