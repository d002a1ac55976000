"""Alembic migrations of the ledger schema, shipped inside the package (``response_ledger:migrations``)."""

HEAD_REVISION = "0004"
"""The newest revision; a test checks it against the scripts, so a new migration must update it."""
