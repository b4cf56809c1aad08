"""identity: users' Entra object id, API keys

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:00:00.000000

`users` gains `external_id`, the object id (oid) of the user in Microsoft Entra ID, by which a
signed-in user is found; `api_keys` holds the keys other systems call the API with, hashed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN and a unique index: SQLite rebuilding `users` (which every customer
    # table references) would fail on a database with data in it
    op.add_column(
        "users",
        sa.Column(
            "external_id",
            sa.String(length=64),
            nullable=True,
            comment="Object id (oid) in the company's Microsoft Entra ID directory; empty for users who never signed in with it.",
        ),
    )
    op.create_index("uq_users_external_id", "users", ["external_id"], unique=True)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False, comment="Key id."),
        sa.Column(
            "name", sa.String(length=100), nullable=False, comment="Who uses it, e.g. crm-sync."
        ),
        sa.Column(
            "prefix",
            sa.String(length=12),
            nullable=False,
            comment="First characters of the key, to recognise it in a list.",
        ),
        sa.Column(
            "key_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the key; the key itself is not kept.",
        ),
        sa.Column(
            "role",
            sa.String(length=20),
            nullable=False,
            comment="Platform role it acts with, usually service.",
        ),
        sa.Column(
            "scopes",
            sa.String(length=200),
            nullable=False,
            comment="Comma-separated scopes, e.g. tools:read.",
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            nullable=True,
            comment="User it acts for (users.id); empty for a system.",
        ),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, comment="When it was created (UTC)."
        ),
        sa.Column("last_used_at", sa.DateTime(), nullable=True, comment="Last accepted use (UTC)."),
        sa.Column(
            "revoked_at",
            sa.DateTime(),
            nullable=True,
            comment="When it was revoked (UTC); a revoked key is refused.",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        comment="Keys other systems call the API with; only their hash is kept.",
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("uq_users_external_id", table_name="users")
    op.drop_column("users", "external_id")
