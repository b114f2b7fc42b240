"""Recording sessions to an embedded SQLite store and reading them back. Never imports Textual."""
