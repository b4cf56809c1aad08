"""notification delivery and preferences

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:00:00.000000

`notifications` gains what delivery needs: the kind and the event behind a message, its HTML
body, how many attempts were made, when the next one is due and why the last one failed.
`notification_preferences` keeps each user's choice per kind and channel (no row: the default),
and `notification_events` the ids of events already handled, so a redelivered event notifies
once. Rows written before this revision keep their status; a pending one with no next attempt
time is due at once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.String(length=40),
                nullable=True,
                comment="What it is about: order_filled, order_rejected, price_alert_fired, payment_succeeded, payment_failed, subscription_past_due, kyc_decided, kyc_expiring or staff_message; empty for older rows.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "event_id",
                sa.String(length=200),
                nullable=True,
                comment="Id of the domain event that caused it, if any.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "body_html",
                sa.Text(),
                nullable=True,
                comment="HTML version of the body, for email.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "attempts",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="Delivery attempts made so far.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "next_attempt_at",
                sa.DateTime(),
                nullable=True,
                comment="When the next delivery attempt is due (UTC); empty once settled.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_error",
                sa.String(length=500),
                nullable=True,
                comment="Why the last delivery attempt failed; empty after success.",
            )
        )
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=10),
            comment="pending (queued, not yet delivered), sent, failed (given up, see last_error) or read (an in-app message the user opened).",
            existing_comment="pending, sent, failed or read.",
        )
        batch_op.create_index(batch_op.f("ix_notifications_event_id"), ["event_id"])
        batch_op.create_index("ix_notifications_status_due", ["status", "next_attempt_at"])

    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False, comment="Preference id."),
        sa.Column(
            "user_id", sa.Integer(), nullable=False, comment="User it belongs to (users.id)."
        ),
        sa.Column(
            "kind",
            sa.String(length=40),
            nullable=False,
            comment="Kind of notification, e.g. order_filled, payment_failed, kyc_decided.",
        ),
        sa.Column(
            "channel", sa.String(length=10), nullable=False, comment="email, sms, push or in_app."
        ),
        sa.Column(
            "enabled", sa.Boolean(), nullable=False, comment="True: send this kind on this channel."
        ),
        sa.Column(
            "updated_at", sa.DateTime(), nullable=False, comment="When it was last changed (UTC)."
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "user_id", "kind", "channel", name=op.f("uq_notification_preferences_user_id")
        ),
        comment="A user's choice to receive, or not, one kind of notification on one channel; without a row the platform's default for the channel applies.",
    )

    op.create_table(
        "notification_events",
        sa.Column(
            "event_id",
            sa.String(length=200),
            nullable=False,
            comment="The event's id (CloudEvents id), unique.",
        ),
        sa.Column(
            "type",
            sa.String(length=200),
            nullable=False,
            comment="The event's type, e.g. ...order.filled.v1.",
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            nullable=False,
            comment="User the event was about (users.id).",
        ),
        sa.Column(
            "notifications",
            sa.Integer(),
            nullable=False,
            comment="How many notifications it created.",
        ),
        sa.Column(
            "handled_at", sa.DateTime(), nullable=False, comment="When it was handled (UTC)."
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_notification_events")),
        comment="Domain events the notification service has handled, one row per event id; its key is what makes a redelivered event notify only once.",
    )


def downgrade() -> None:
    op.drop_table("notification_events")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_due")
        batch_op.drop_index(batch_op.f("ix_notifications_event_id"))
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=10),
            comment="pending, sent, failed or read.",
            existing_comment="pending (queued, not yet delivered), sent, failed (given up, see last_error) or read (an in-app message the user opened).",
        )
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("body_html")
        batch_op.drop_column("event_id")
        batch_op.drop_column("kind")
