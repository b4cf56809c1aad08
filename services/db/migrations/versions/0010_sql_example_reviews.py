"""sql example reviews: a customer's thumbs-up waits for staff before it teaches the SQL agent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00.000000

A verified example is reused for every user's similar questions, so one customer's confirmation
must not plant SQL for everyone: it becomes a review that support or an admin approves (then it
is an example with `source = 'feedback'`) or rejects with a reason.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sql_example_reviews",
        sa.Column("id", sa.Integer(), nullable=False, comment="Review id."),
        sa.Column(
            "answer_id",
            sa.Integer(),
            nullable=False,
            comment="The audit record of the answer that was confirmed.",
        ),
        sa.Column("question", sa.Text(), nullable=False, comment="The question as it was asked."),
        sa.Column("sql", sa.Text(), nullable=False, comment="The SQL the model wrote for it."),
        sa.Column(
            "proposed_by",
            sa.Integer(),
            sa.ForeignKey("users.id"),
            nullable=True,
            comment="The user who confirmed the answer.",
        ),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, comment="When it was confirmed (UTC)."
        ),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="pending, approved or rejected.",
        ),
        sa.Column(
            "reviewer_id",
            sa.Integer(),
            sa.ForeignKey("users.id"),
            nullable=True,
            comment="The staff member who decided.",
        ),
        sa.Column(
            "reviewed_at", sa.DateTime(), nullable=True, comment="When it was decided (UTC)."
        ),
        sa.Column("reason", sa.Text(), nullable=True, comment="Why it was rejected."),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", name="uq_sql_example_reviews_answer"),
        comment="Confirmed answers waiting for staff before they become SQL examples.",
    )
    op.create_index("ix_sql_example_reviews_status", "sql_example_reviews", ["status"])


def downgrade() -> None:
    op.drop_index("ix_sql_example_reviews_status", table_name="sql_example_reviews")
    op.drop_table("sql_example_reviews")
