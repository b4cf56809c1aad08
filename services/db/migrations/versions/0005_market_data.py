"""market data: quotes, price bars and price alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 01:00:00.000000

`quotes` keeps the latest price per instrument, `price_bars` the 1 minute, 1 hour and 1 day
bars the price pipeline rolls up, `price_alerts` the customers' alerts and when they fired.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PRICE = sa.Numeric(precision=24, scale=8, asdecimal=False)


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("symbol", sa.String(length=20), nullable=False, comment="Instrument ticker."),
        sa.Column("price", PRICE, nullable=False, comment="Last traded price."),
        sa.Column("bid", PRICE, nullable=True, comment="Best bid, when the feed gives one."),
        sa.Column("ask", PRICE, nullable=True, comment="Best ask, when the feed gives one."),
        sa.Column(
            "volume", PRICE, nullable=False, comment="Units traded so far in the current day (UTC)."
        ),
        sa.Column("as_of", sa.DateTime(), nullable=False, comment="Time of the last trade (UTC)."),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_quotes")),
        comment="Latest price of each instrument (public market data).",
    )
    op.create_table(
        "price_bars",
        sa.Column("id", sa.Integer(), nullable=False, comment="Row id."),
        sa.Column("symbol", sa.String(length=20), nullable=False, comment="Instrument ticker."),
        sa.Column(
            "interval", sa.String(length=3), nullable=False, comment="Bar length: 1m, 1h or 1d."
        ),
        sa.Column(
            "start", sa.DateTime(), nullable=False, comment="Start of the bar (UTC), inclusive."
        ),
        sa.Column("open", PRICE, nullable=False, comment="First price in the bar."),
        sa.Column("high", PRICE, nullable=False, comment="Highest price in the bar."),
        sa.Column("low", PRICE, nullable=False, comment="Lowest price in the bar."),
        sa.Column(
            "close",
            PRICE,
            nullable=False,
            comment="Last price in the bar (so far, for the open bar).",
        ),
        sa.Column("volume", PRICE, nullable=False, comment="Units traded in the bar."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_bars")),
        comment="Open-high-low-close bars per instrument at 1 minute, 1 hour and 1 day.",
    )
    with op.batch_alter_table("price_bars", schema=None) as batch_op:
        batch_op.create_index(
            "ix_price_bars_symbol_interval_start", ["symbol", "interval", "start"], unique=True
        )
    op.create_table(
        "price_alerts",
        sa.Column("id", sa.Integer(), nullable=False, comment="Alert id."),
        sa.Column(
            "user_id", sa.Integer(), nullable=False, comment="Customer who set it (users.id)."
        ),
        sa.Column("symbol", sa.String(length=20), nullable=False, comment="Instrument ticker."),
        sa.Column(
            "direction",
            sa.String(length=5),
            nullable=False,
            comment="above (fires at or over the threshold) or below (at or under).",
        ),
        sa.Column("threshold", PRICE, nullable=False, comment="Price level that fires it."),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="active (waiting), fired (went off once) or deleted (by its owner).",
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False, comment="When it was set (UTC)."),
        sa.Column(
            "fired_at",
            sa.DateTime(),
            nullable=True,
            comment="Time of the trade that fired it (UTC); empty until it fires.",
        ),
        sa.Column(
            "fired_price",
            PRICE,
            nullable=True,
            comment="Price of the trade that fired it; empty until it fires.",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_price_alerts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_alerts")),
        comment="Customers' price alerts: tell me when a price goes above or below a level.",
    )
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_price_alerts_status_symbol", ["status", "symbol"])
        batch_op.create_index(batch_op.f("ix_price_alerts_user_id"), ["user_id"])


def downgrade() -> None:
    op.drop_table("price_alerts")
    op.drop_table("price_bars")
    op.drop_table("quotes")
