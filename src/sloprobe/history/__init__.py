"""Run history: what every run remembers of the ones before it (needs SQLAlchemy).

A publisher's layer, beside sinks and notifiers: it must not import them, the plugin,
the CLI or the judge (it stores what the judge decided; import-linter contracts).
"""

from sloprobe.history.store import HistoryError, HistoryStore, HistoryView

__all__ = ["HistoryError", "HistoryStore", "HistoryView"]
