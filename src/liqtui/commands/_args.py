"""Types of the numeric command-line options: a number that is finite and inside its declared
``Range`` (the one vocabulary of ranges, shared with the config file), checked by argparse, so a bad
value is one usage line and exit code 2 before anything starts."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from liqtui.config import Range

DURATION = Range(0, 1e8, "seconds", low_open=True)
TIMEOUT = Range(0, 3600, "seconds", low_open=True)
USD = Range(0, 1e12, "USD")
REPLAY_SPEED = Range(
    0, 3600, "x real time", zero="as fast as it reads"
)  # = feeds.replay.SPEEDS (not imported: sqlite)


@dataclass(frozen=True)
class NumberIn:
    """An argparse ``type=``: the text as a float inside ``span``, else ArgumentTypeError."""

    span: Range

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value not in self.span:
            raise argparse.ArgumentTypeError(f"expected a number in {self.span}, got {text!r}")
        return value  # type: ignore[return-value]
