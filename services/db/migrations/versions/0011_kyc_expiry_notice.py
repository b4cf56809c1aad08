"""kyc: when the customer was told an approval lapses soon

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:00:00.000000

`kyc_verifications` gains `expiry_notice_at`: the KYC expiry job announces `kyc.expiring` once
per check and records when here, in the same transaction as the event, so a second run (or a
second process) does not tell the customer again. Rows written before this revision are empty:
their notice, if due, is sent on the next run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: no table rebuild on SQLite
    op.add_column(
        "kyc_verifications",
        sa.Column(
            "expiry_notice_at",
            sa.DateTime(),
            nullable=True,
            comment="When the customer was told the approval lapses soon; empty if not yet.",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("kyc_verifications", schema=None) as batch_op:
        batch_op.drop_column("expiry_notice_at")
