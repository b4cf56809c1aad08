"""identity: chat UI sign-in passwords

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:00:00.000000

`user_passwords` holds the scrypt hash of a user's password for the chat UI's sign-in in local
mode (`trading-assist user password`). A table of its own rather than a column of `users`: the
SQL agent and the tool surfaces read `users`, and a credential has no business there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_passwords",
        sa.Column("user_id", sa.Integer(), nullable=False, comment="User (users.id)."),
        sa.Column(
            "password_hash",
            sa.String(length=255),
            nullable=False,
            comment="scrypt$<log2 n>$<r>$<p>$<salt>$<key>: salt and key in base64.",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            nullable=False,
            comment="When the password was last set (UTC).",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_passwords_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_passwords")),
        comment="Chat UI sign-in passwords (local mode), as scrypt hashes; never the password.",
    )


def downgrade() -> None:
    op.drop_table("user_passwords")
