"""trading: instruments, order idempotency keys, notional and fees

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 01:00:00.000000

`instruments` lists what can be traded (the trading service refuses an order on a symbol it
does not list or that is halted). `orders` gains the caller's idempotency key (unique per user,
so a retried request places nothing twice), the notional a money-sized order asked for, and the
commission charged on its fills.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False, comment="Instrument id."),
        sa.Column(
            "symbol",
            sa.String(length=20),
            nullable=False,
            comment="Ticker as orders name it, e.g. AAPL or BTCUSD.",
        ),
        sa.Column(
            "asset_class",
            sa.String(length=10),
            nullable=False,
            comment="equity (includes ETFs) or crypto.",
        ),
        sa.Column(
            "tradable",
            sa.Boolean(),
            nullable=False,
            comment="True when customers may place orders on it now; false when halted.",
        ),
        sa.Column(
            "currency",
            sa.String(length=3),
            nullable=False,
            comment="Currency it is priced in, e.g. USD.",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("symbol", name=op.f("uq_instruments_symbol")),
        comment="Instruments the firm lists: what can be traded and in what.",
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "notional",
                sa.Numeric(precision=18, scale=2, asdecimal=False),
                nullable=True,
                comment="Cash amount asked for when the order was given in money, not units.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "fees",
                sa.Numeric(precision=18, scale=2, asdecimal=False),
                nullable=True,
                comment="Commission charged on the fills so far.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_key",
                sa.String(length=100),
                nullable=True,
                comment="Caller's key that makes placing the same order twice place it once (unique per user).",
            )
        )
        batch_op.create_index(
            "ix_orders_user_idempotency", ["user_id", "idempotency_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_user_idempotency")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("fees")
        batch_op.drop_column("notional")
    op.drop_table("instruments")
