"""The store: SQLAlchemy models, Alembic migrations, repositories and the audit log.

* :mod:`.db` -- ``database_url()`` (``SECURECOMM_DATABASE_URL``, default the SQLite file
  ``securecomm.db`` in the current directory), ``make_engine``, ``session_factory``,
  ``upgrade`` / ``current_revision``.
* :mod:`.models` -- the schema (one docstring per table: what it holds, who writes it).
* :mod:`.repositories` -- idempotent intake, the rejected-input store, cases, decisions,
  officer actions, detainers, notices, and the lookups for listing them.
* :mod:`.audit` -- the append-only hash-chained audit log with RFC 6962 checkpoints and
  ``verify``; :mod:`.merkle` -- the pure Merkle tree functions.
* :mod:`.commands` -- ``securecomm db …`` and ``securecomm audit …``.

Dependencies point inward: the store imports only :mod:`securecomm.law.schema` (for the
exchange-format enumerations and Case / Decision validation).
"""
