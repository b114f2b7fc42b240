"""The Textual desk: app, screens, widgets, stylesheet, theme loading."""
