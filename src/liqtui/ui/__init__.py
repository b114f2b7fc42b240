"""The Textual desk: app, screens, widgets, stylesheet, theme loading."""

import os

# Textual draws a changed screen at its next frame, at most TEXTUAL_FPS a second (default 60): a key's
# change waited for it up to 16.7 ms, 8 on average. The desk's own refreshes come at `render_hz` (4 a
# second), so a faster frame clock adds frames only where something changed. Set before Textual is
# imported (it reads the variable once); a user's own TEXTUAL_FPS wins. Figures: bench/README.md.
os.environ.setdefault("TEXTUAL_FPS", "120")
