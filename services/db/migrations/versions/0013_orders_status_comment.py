"""orders.status describes its values only

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:00:00.000000

The column comment also said which statuses make an order "open"; that definition now lives in
the semantic model file alone (services/semantic/trading.yaml, segment `open_orders`). Only
databases that keep comments (PostgreSQL, SQL Server) change; SQLite has none to change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DESCRIBED = (
    "open (working, nothing filled), partially_filled (working, some filled), filled, "
    "cancelled or rejected."
)
DEFINED = DESCRIBED + " Open orders are those in open or partially_filled."


def _comment(new: str, old: str) -> None:
    if not op.get_bind().dialect.supports_comments or op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "orders", "status", existing_type=sa.String(20), comment=new, existing_comment=old
    )


def upgrade() -> None:
    _comment(DESCRIBED, DEFINED)


def downgrade() -> None:
    _comment(DEFINED, DESCRIBED)
