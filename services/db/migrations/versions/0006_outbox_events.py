"""outbox events and processed events

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 01:00:00.000000

`outbox_events` holds each domain event written in the same transaction as its change until
the dispatcher has delivered it; `processed_events` lets a consumer recognise a second delivery
of an event it has already handled.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column(
            "id",
            sa.String(length=36),
            nullable=False,
            comment="Event id (CloudEvents id, a uuid).",
        ),
        sa.Column(
            "type",
            sa.String(length=120),
            nullable=False,
            comment="CloudEvents type, e.g. com.tradingassist.order.filled.v1.",
        ),
        sa.Column(
            "source",
            sa.String(length=200),
            nullable=False,
            comment="CloudEvents source, e.g. /trading-assist/trading.",
        ),
        sa.Column(
            "subject",
            sa.String(length=200),
            nullable=True,
            comment="What the event is about, e.g. orders/42.",
        ),
        sa.Column("data", sa.Text(), nullable=False, comment="The event's payload as JSON text."),
        sa.Column(
            "created_at",
            sa.DateTime(),
            nullable=False,
            comment="When the event happened and was recorded (UTC); its CloudEvents time.",
        ),
        sa.Column(
            "available_at",
            sa.DateTime(),
            nullable=False,
            comment="Earliest time of the next delivery attempt (UTC).",
        ),
        sa.Column(
            "attempts", sa.Integer(), nullable=False, comment="Failed delivery attempts so far."
        ),
        sa.Column(
            "dispatched_at",
            sa.DateTime(),
            nullable=True,
            comment="When the bus accepted it (UTC); empty while still to deliver.",
        ),
        sa.Column(
            "last_error",
            sa.Text(),
            nullable=True,
            comment="Why the last delivery attempt failed.",
        ),
        sa.Column(
            "claimed_by",
            sa.String(length=100),
            nullable=True,
            comment="Dispatcher currently delivering it; empty when unclaimed.",
        ),
        sa.Column(
            "claimed_until",
            sa.DateTime(),
            nullable=True,
            comment="End of that dispatcher's lease (UTC); after it another may claim.",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        comment="Domain events written in the same transaction as the change they describe, "
        "kept until the dispatcher has delivered them to the message bus.",
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_due", ["dispatched_at", "available_at"])

    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer(), nullable=False, comment="Row id."),
        sa.Column(
            "consumer",
            sa.String(length=100),
            nullable=False,
            comment="Name of the consumer that handled it.",
        ),
        sa.Column(
            "event_id",
            sa.String(length=100),
            nullable=False,
            comment="Event id (CloudEvents id).",
        ),
        sa.Column(
            "processed_at", sa.DateTime(), nullable=False, comment="When it was handled (UTC)."
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint("consumer", "event_id", name=op.f("uq_processed_events_consumer")),
        comment="Events each consumer has handled, so a second delivery changes nothing.",
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_due")
    op.drop_table("outbox_events")
