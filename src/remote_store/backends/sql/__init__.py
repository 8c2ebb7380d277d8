"""SQL backends: files stored in SQLite or PostgreSQL through SQLAlchemy 2."""

from remote_store.backends.sql.backend import SQLBlobBackend

__all__ = ["SQLBlobBackend"]
