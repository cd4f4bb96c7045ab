"""Run history: what every run remembers of the ones before it (needs SQLAlchemy)."""

from sloprobe.history.store import HistoryError, HistoryStore, HistoryView

__all__ = ["HistoryError", "HistoryStore", "HistoryView"]
