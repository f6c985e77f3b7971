"""The PostgreSQL target, one module a job.

- ``connection.py``: settings read from a URL, sessions, errors in our words;
- ``session.py``: the run's main transaction;
- ``catalog.py``: read-only questions about what the database holds;
- ``sql.py``: the statements, built from a ``TableSchema`` (no I/O);
- ``scratch.py``: names and key renames of a staged load's scratch tables;
- ``loaders.py``: several COPY sessions, each in a thread;
- ``loads/``: the ways a run's tables get their rows (direct, staged, upsert);
- ``target.py``: ``PostgresTarget``, which ties them to the target protocol.
"""

from datastorm_core.target.postgres.target import (
    COPY_ENCODERS,
    DEFAULT_COPY_FORMAT,
    CopyEncoder,
    PostgresTarget,
)

__all__ = ["COPY_ENCODERS", "DEFAULT_COPY_FORMAT", "CopyEncoder", "PostgresTarget"]
