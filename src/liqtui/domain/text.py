"""Text that came from outside (a venue's symbol names and error messages, a recording) made safe
for a terminal.

A feed controls the names it sends: ``"BTC\\x1b]0;pwned\\x07/USDT"`` printed raw would retitle the
window, clear the screen or move the cursor. Feeds pass what they receive through ``printable`` at
the parser edge (so the engine, the desk and the recording get clean text), and every command that
prints such text passes it through again (an old recording may still hold a dirty name).
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls, DEL (ESC, CSI 0x9b, BEL, CR, ...); Cf: format characters (bidi overrides that
# reorder what is shown, zero-width characters); Cs: lone surrogates, which a JSON string can carry
# and which make printing raise; Zl/Zp: line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control, format and separator character removed, except those in ``keep``
    (``keep="\\n"`` for a multi-line report)."""
    if text.isprintable():  # the usual case: nothing to do
        return text
    return "".join(c for c in text if c in keep or unicodedata.category(c) not in _UNSAFE_CATEGORIES)
