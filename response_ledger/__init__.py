"""The response ledger (舆情回应台账): tickets with statutory deadlines, escalation and metrics.

Cosmic-Python layout: a pure domain (:mod:`workflow`, :mod:`model`, :mod:`deadlines`,
:mod:`calendar`), ports and SQLAlchemy adapters (:mod:`repository`, :mod:`unit_of_work`, with
Alembic migrations in ``migrations/``), use cases (:mod:`services`, :mod:`intake`,
:mod:`reminders`), read models (:mod:`queries`) and the 台账 workbook (:mod:`ledger_book`).

The ledger stage (:mod:`yuqing.stages`) calls::

    engine = engine_from_settings(settings)          # once per process; migrates the schema
    policy = load_policy(settings.ledger_policy_path)  # once per process
    with SqlUnitOfWork(engine) as uow:               # one per batch
        report = open_tickets(uow, posts, now, policy=policy)  # commits; safe to replay

Layer 2: it may import :mod:`core` only (``tests/test_layers.py``); the dashboard's tables share its
Alembic history because they live in the same database.
"""

from response_ledger.intake import HandOpened, IntakeReport, open_by_hand, open_tickets
from response_ledger.policy import Policy, load_policy
from response_ledger.unit_of_work import SqlUnitOfWork, UnitOfWork, engine_from_settings

__all__ = [
    "HandOpened",
    "IntakeReport",
    "Policy",
    "SqlUnitOfWork",
    "UnitOfWork",
    "engine_from_settings",
    "load_policy",
    "open_by_hand",
    "open_tickets",
]
