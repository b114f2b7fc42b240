"""Recording sessions to an embedded SQLite store and reading them back. Never imports Textual.

- ``Recorder``: in-process recorder (``add``, ``flush``, ``close``) used by the desk and ``liqtui record``;
- ``read_events``, ``describe``, ``warm``: reading a recording back (``reader``);
- ``StoreError``: the one error for a file that cannot be used (missing, foreign, newer, corrupt);
- ``summary``: realized liquidations and OI change computed straight from the file (``liqtui stats``);
- ``export``: pandas frames per kind (``liqtui export``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqtui.domain.imports import names_on_first_use

if TYPE_CHECKING:
    from liqtui.storage.layouts import KINDS, event_time
    from liqtui.storage.reader import RecordingInfo, describe, read_events, warm
    from liqtui.storage.recorder import Recorder, default_path
    from liqtui.storage.schema import SCHEMA_VERSION, StoreError

# Each name's module, imported at the name's first use (PEP 562): the reader alone (the reading
# child's) does not import the recorder and the config with its package (~22 ms of that child's start).
_HOME = {
    **dict.fromkeys(["KINDS", "event_time"], "liqtui.storage.layouts"),
    **dict.fromkeys(["RecordingInfo", "describe", "read_events", "warm"], "liqtui.storage.reader"),
    **dict.fromkeys(["Recorder", "default_path"], "liqtui.storage.recorder"),
    **dict.fromkeys(["SCHEMA_VERSION", "StoreError"], "liqtui.storage.schema"),
}


__getattr__ = names_on_first_use(__name__, _HOME)


__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "RecordingInfo",
    "Recorder",
    "StoreError",
    "default_path",
    "describe",
    "event_time",
    "read_events",
    "warm",
]
