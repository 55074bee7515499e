"""zkeb-db: the PostgreSQL data layer of a zero-knowledge encrypted backup service.

The schema, row-level security and the whole API live in PostgreSQL (see
``sqitch.plan``); this package deploys it (Sqitch-compatible), calls it and
checks it.
"""

__version__ = "0.1.0"
