"""SQL backends: files stored in SQLite or PostgreSQL (`SQLBlobBackend`), and query results
exported as files (`SQLQueryBackend`), through SQLAlchemy 2."""

from remote_store.backends.sql.backend import SQLBlobBackend

__all__ = ["SQLBlobBackend", "SQLQueryBackend"]


def __getattr__(name: str) -> object:
    # pyarrow is imported only by the query backend.
    if name == "SQLQueryBackend":
        from remote_store.backends.sql.query import SQLQueryBackend

        return SQLQueryBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
