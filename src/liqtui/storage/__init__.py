"""Recording sessions to an embedded SQLite store and reading them back. Never imports Textual.

- ``Recorder``: in-process recorder (``add``, ``flush``, ``close``) used by the desk and ``liqtui record``;
- ``read_events``, ``describe``, ``warm``: reading a recording back (``reader``);
- ``StoreError``: the one error for a file that cannot be used (missing, foreign, newer, corrupt);
- ``summary``: realized liquidations and OI change computed straight from the file (``liqtui stats``);
- ``export``: pandas frames per kind (``liqtui export``).
"""

from liqtui.storage.layouts import KINDS, event_time
from liqtui.storage.reader import RecordingInfo, describe, read_events, warm
from liqtui.storage.recorder import Recorder, default_path
from liqtui.storage.schema import SCHEMA_VERSION, StoreError

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
