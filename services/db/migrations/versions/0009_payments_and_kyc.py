"""payments through Stripe and the KYC workflow

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:20:00.000000

`payments` gains what Stripe deposits, refunds and staff-approved withdrawals need (the amount
refunded so far, why a payment failed, where a customer authenticates a 3-D Secure payment, who
reviewed a withdrawal, when the status last changed) and a wider status column for
pending_approval and partially_refunded. `subscriptions` gains its Stripe id, cancel at period
end and the dunning state (failed renewals in a row, next retry). `kyc_verifications` gains the
provider, its reference, the reviewer, what input was requested, the uploaded document and the
mismatches found in it. New tables: `stripe_customers` (a user's Stripe customer id), `refunds`,
and `stripe_events` (webhook event ids already handled). Rows written before this revision keep
their values; their new counters start at zero.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PAYMENT_STATUS = (
    "Deposits: pending, requires_action (the customer must authenticate, e.g. 3-D Secure), "
    "succeeded, failed, partially_refunded or refunded. Withdrawals: pending_approval, "
    "approved, paid or rejected."
)
KYC_STATUS = (
    "not_started, pending (submitted), in_review, approved, rejected, requires_input (the "
    "customer must send more) or expired."
)


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=12),
            type_=sa.String(length=20),
            existing_nullable=False,
            comment=PAYMENT_STATUS,
            existing_comment="pending, succeeded, failed or refunded.",
        )
        batch_op.add_column(
            sa.Column(
                "refunded_amount",
                sa.Numeric(18, 2),
                nullable=False,
                server_default="0",
                comment="Amount refunded so far (0 if none).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "failure_reason",
                sa.String(length=200),
                nullable=True,
                comment="Why the payment failed or a withdrawal was rejected.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "next_action_url",
                sa.String(length=500),
                nullable=True,
                comment="Where the customer authenticates a requires_action payment.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reviewed_by",
                sa.Integer(),
                nullable=True,
                comment="Staff user who approved or rejected a withdrawal (users.id).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(),
                nullable=True,
                comment="Last change of status (UTC); empty for rows never changed.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_key",
                sa.String(length=100),
                nullable=True,
                comment="Key of the confirmed request that created it; a retry finds it instead of paying twice.",
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_idempotency_key"), ["idempotency_key"]
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provider_reference",
                sa.String(length=64),
                nullable=True,
                comment="Payment provider's id, e.g. a Stripe subscription (sub_...).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cancel_at_period_end",
                sa.Boolean(),
                nullable=False,
                server_default="0",
                comment="True: it ends at current_period_end instead of renewing.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "failed_attempts",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="Renewal payments failed in a row (0 when paid up).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "next_retry_at",
                sa.DateTime(),
                nullable=True,
                comment="When a past_due renewal is retried next (UTC); empty otherwise.",
            )
        )

    with op.batch_alter_table("kyc_verifications", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=20),
            existing_nullable=False,
            comment=KYC_STATUS,
            existing_comment="not_started, pending, in_review, approved, rejected or expired.",
        )
        for name, type_, comment in (
            (
                "provider",
                sa.String(length=20),
                "Who checks the identity: stripe_identity, manual or test.",
            ),
            (
                "provider_reference",
                sa.String(length=64),
                "Provider's id of the check, e.g. a Stripe verification session.",
            ),
            (
                "reviewer_id",
                sa.Integer(),
                "Staff user who made the last decision (users.id); empty if none.",
            ),
            (
                "requested_input",
                sa.String(length=300),
                "What the customer was asked to provide when requires_input.",
            ),
            (
                "document_id",
                sa.Integer(),
                "The uploaded identity document (documents.id), restricted.",
            ),
            (
                "mismatches",
                sa.String(length=500),
                "Fields of the document that did not match the profile.",
            ),
        ):
            batch_op.add_column(sa.Column(name, type_, nullable=True, comment=comment))

    op.create_table(
        "stripe_customers",
        sa.Column("user_id", sa.Integer(), nullable=False, comment="User (users.id)."),
        sa.Column(
            "customer_id",
            sa.String(length=64),
            nullable=False,
            comment="Stripe customer id (cus_...).",
        ),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, comment="When it was created (UTC)."
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_stripe_customers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_stripe_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_stripe_customers_customer_id")),
        comment="Each user's customer record at Stripe, created on first use.",
    )

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False, comment="Refund id."),
        sa.Column(
            "payment_id", sa.Integer(), nullable=False, comment="Payment refunded (payments.id)."
        ),
        sa.Column("user_id", sa.Integer(), nullable=False, comment="Customer (users.id)."),
        sa.Column(
            "amount", sa.Numeric(18, 2), nullable=False, comment="Amount refunded, positive."
        ),
        sa.Column("currency", sa.String(length=3), nullable=False, comment="Currency of amount."),
        sa.Column(
            "reason", sa.String(length=200), nullable=True, comment="Why, as staff wrote it."
        ),
        sa.Column(
            "provider_reference",
            sa.String(length=64),
            nullable=True,
            comment="Stripe refund id (re_...).",
        ),
        sa.Column(
            "created_by", sa.Integer(), nullable=True, comment="Staff user who refunded (users.id)."
        ),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, comment="When it was refunded (UTC)."
        ),
        sa.Column(
            "idempotency_key",
            sa.String(length=100),
            nullable=True,
            comment="Key of the confirmed request; a retry refunds once.",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_refunds_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
        comment="Money given back on a deposit, by support or an admin.",
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"])
    op.create_index(op.f("ix_refunds_user_id"), "refunds", ["user_id"])

    op.create_table(
        "stripe_events",
        sa.Column(
            "event_id", sa.String(length=100), nullable=False, comment="Stripe event id (evt_...)."
        ),
        sa.Column(
            "type",
            sa.String(length=100),
            nullable=False,
            comment="Event type, e.g. payment_intent.succeeded.",
        ),
        sa.Column(
            "outcome",
            sa.String(length=20),
            nullable=False,
            comment="applied, or stale (older than the state already held).",
        ),
        sa.Column("received_at", sa.DateTime(), nullable=False, comment="When it arrived (UTC)."),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_stripe_events")),
        comment="Stripe webhook events received, one row per event id, so a replay changes nothing.",
    )


def downgrade() -> None:
    op.drop_table("stripe_events")
    op.drop_index(op.f("ix_refunds_user_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("stripe_customers")
    with op.batch_alter_table("kyc_verifications", schema=None) as batch_op:
        for name in (
            "mismatches",
            "document_id",
            "requested_input",
            "reviewer_id",
            "provider_reference",
            "provider",
        ):
            batch_op.drop_column(name)
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=20),
            comment="not_started, pending, in_review, approved, rejected or expired.",
            existing_comment=KYC_STATUS,
        )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        for name in (
            "next_retry_at",
            "failed_attempts",
            "cancel_at_period_end",
            "provider_reference",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_idempotency_key"), type_="unique")
        for name in (
            "idempotency_key",
            "updated_at",
            "reviewed_by",
            "next_action_url",
            "failure_reason",
            "refunded_amount",
        ):
            batch_op.drop_column(name)
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=20),
            type_=sa.String(length=12),
            comment="pending, succeeded, failed or refunded.",
            existing_comment=PAYMENT_STATUS,
        )
