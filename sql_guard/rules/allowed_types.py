"""Casts only to plain data types."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

T = exp.DataType.Type
ALLOWED_TYPES = frozenset(
    {
        T.BOOLEAN,
        T.TINYINT,
        T.SMALLINT,
        T.INT,
        T.BIGINT,
        T.UTINYINT,
        T.USMALLINT,
        T.UINT,
        T.UBIGINT,
        T.DECIMAL,
        T.BIGDECIMAL,
        T.DOUBLE,
        T.FLOAT,
        T.MONEY,
        T.SMALLMONEY,
        T.CHAR,
        T.NCHAR,
        T.VARCHAR,
        T.NVARCHAR,
        T.TEXT,
        T.MEDIUMTEXT,
        T.LONGTEXT,
        T.TINYTEXT,
        T.NAME,
        T.DATE,
        T.DATE32,
        T.DATETIME,
        T.DATETIME2,
        T.SMALLDATETIME,
        T.TIME,
        T.TIMETZ,
        T.TIMESTAMP,
        T.TIMESTAMPTZ,
        T.TIMESTAMPLTZ,
        T.TIMESTAMPNTZ,
        T.INTERVAL,
        T.JSON,
        T.JSONB,
        T.UUID,
    }
)


def allowed_types(subject: Subject) -> list[Reason]:
    """A cast may only target numbers, text, dates, times, booleans, JSON and UUIDs. PostgreSQL's
    object-identifier types (`'users'::regclass`, `::regproc`) look up the system catalogs,
    and a type SQLGlot does not know may be a user-defined one with its own input function.

    >>> messages = lambda sql: [r.message for r in allowed_types(Subject.parse(sql, "postgres"))]
    >>> messages("SELECT 'users'::regclass::oid")
    ['casting to OID is not allowed', 'casting to REGCLASS is not allowed']
    >>> messages("SELECT CAST(quantity AS numeric(24, 8)) FROM orders")
    []
    """
    reasons: list[Reason] = []
    for node in subject.find(exp.ObjectIdentifier, exp.DataType):
        if isinstance(node, exp.ObjectIdentifier) or node.this not in ALLOWED_TYPES:
            if isinstance(node.parent, exp.DataType):  # e.g. ARRAY<...>: reported at the top
                continue
            reason = Reason(
                code="denied_type",
                message=f"casting to {node.sql(subject.dialect)} is not allowed",
            )
            if reason not in reasons:
                reasons.append(reason)
    return reasons
