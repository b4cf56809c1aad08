"""What every table shares: the declarative `Base`, its naming convention, column types, `col`."""

from __future__ import annotations

from sqlalchemy import MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=False)
Quantity = Numeric(24, 8, asdecimal=False)
Price = Numeric(24, 8, asdecimal=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def col(*args, comment: str, internal: bool = False, **kwargs):
    """`mapped_column` that refuses to exist without a comment. An `internal` column is the
    platform's own bookkeeping (idempotency keys, content hashes, delivery retries): no
    question about the business is about it, so the SQL model is not shown it, which keeps
    the schema prompt it reads before every answer shorter (`services.catalog`)."""
    if internal:
        kwargs["info"] = {**kwargs.get("info", {}), "internal": True}
    return mapped_column(*args, comment=comment, **kwargs)
