"""The bytes that make a terminal say an alert fired: the bell and desktop notifications by escape
sequence (docs/alerts.md). They travel with the output, so they work over SSH too.

- OSC 9 (iTerm2, WezTerm, Windows Terminal, ghostty, foot): ``ESC ] 9 ; text BEL``;
- OSC 777 (urxvt, foot, VTE terminals): ``ESC ] 777 ; notify ; title ; body BEL``;
- OSC 99 (kitty): ``ESC ] 99 ; ; text ESC \\`` (no metadata: the payload is the title).

Inside tmux an OSC sequence reaches the outer terminal only wrapped for passthrough
(``ESC P tmux ; <sequence, every ESC doubled> ESC \\``, with ``set -g allow-passthrough on`` in
tmux 3.3 and later); the bell needs no wrapping (tmux relays a pane's bell itself).

The text comes from the market (symbol names) and the config (rule names): control characters are
removed, and the separators a sequence uses (``;`` in OSC 777's title) replaced, so no text can end
a sequence early or start another.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqtui.domain.text import printable

BEL = "\x07"
ESC = "\x1b"
ST = ESC + "\\"
TITLE = "liqtui"


@dataclass(frozen=True, slots=True)
class TerminalNotices:
    """Which ways are on (the ``[alerts]`` keys ``bell``, ``osc9``, ``osc777``, ``osc99``)."""

    bell: bool = False
    osc9: bool = False
    osc777: bool = False
    osc99: bool = False

    @property
    def any(self) -> bool:
        return self.bell or self.osc9 or self.osc777 or self.osc99


def notice_title(label: str = "") -> str:
    """The title a notification or a push carries: "liqtui", or "liqtui DEMO" / "liqtui REPLAY" when
    the data is not live (a phone never shows a simulated liquidation as news)."""
    return f"{TITLE} {label}" if label else TITLE


def tmux_wrap(sequence: str) -> str:
    """``sequence`` wrapped for tmux passthrough."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def notice_bytes(text: str, notices: TerminalNotices, *, tmux: bool = False, title: str = TITLE) -> str:
    """What to write to the terminal for one alert whose words are ``text`` ("" when all are off)."""
    body = printable(text)
    head = printable(title)
    sequences = []
    if notices.osc9:
        sequences.append(f"{ESC}]9;{head}: {body}{BEL}")
    if notices.osc777:
        sequences.append(f"{ESC}]777;notify;{head.replace(';', ',')};{body}{BEL}")
    if notices.osc99:
        sequences.append(f"{ESC}]99;;{head}: {body}{ST}")
    out = "".join(tmux_wrap(s) if tmux else s for s in sequences)
    return out + (BEL if notices.bell else "")
