"""Optional libraries live behind pip extras; when one is missing, say which extra brings it."""

from __future__ import annotations


def missing_driver(exc: ImportError) -> str:
    """Name the extra that brings a missing database driver."""
    name = exc.name or str(exc)
    if "psycopg" in name:
        return "the PostgreSQL driver is missing: pip install 'sloprobe[postgres]'"
    return f"a database driver is missing ({name}); install it next to sloprobe"
