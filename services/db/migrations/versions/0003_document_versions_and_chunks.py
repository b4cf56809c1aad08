"""document versions and chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 07:00:00.000000

`documents` gains its source (the identity re-ingestion is matched on), the version it serves,
its access rules and an update time; `document_versions` keeps every ingested file and its text;
`document_chunks` holds the current version's passages. Rows written before this revision came
from the demo data, so their source becomes `demo:<file name>` and the next demo ingestion turns
them into version 1 with the same ids.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.String(length=500),
                nullable=False,
                server_default="",
                comment="Where it comes from: the path it was ingested from, upload:<file name>, or demo:<file name>. Ingesting the same source again makes a new version.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "current_version",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="Version number now served (1 for the first); 0 before any ingestion.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(),
                nullable=True,
                comment="When the current version or the access rules last changed (UTC).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "access_roles",
                sa.String(length=100),
                nullable=False,
                server_default="",
                comment="Comma-separated roles that may read a restricted document; empty otherwise.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "access_user_ids",
                sa.Text(),
                nullable=False,
                server_default="",
                comment="Comma-separated user ids that may read a restricted document.",
            )
        )

    documents = sa.table(
        "documents",
        sa.column("filename", sa.String),
        sa.column("source", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
    )
    op.execute(
        documents.update().values(
            source=sa.literal("demo:") + documents.c.filename,
            updated_at=documents.c.created_at,
        )
    )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.alter_column("source", server_default=None, existing_type=sa.String(length=500))
        batch_op.alter_column("current_version", server_default=None, existing_type=sa.Integer())
        batch_op.alter_column("access_roles", server_default=None, existing_type=sa.String(100))
        batch_op.alter_column("access_user_ids", server_default=None, existing_type=sa.Text())
        batch_op.alter_column("updated_at", nullable=False, existing_type=sa.DateTime())
        batch_op.alter_column(
            "filename",
            existing_type=sa.String(length=255),
            comment="Original file name of the current version.",
            existing_comment="Original file name.",
        )
        batch_op.alter_column(
            "doc_type",
            existing_type=sa.String(length=20),
            comment="fee_schedule, policy, handbook, terms, faq or other.",
            existing_comment="fee_schedule, policy, handbook, terms or faq.",
        )
        batch_op.alter_column(
            "visibility",
            existing_type=sa.String(length=20),
            comment="public (everyone), internal (staff only) or restricted (only the roles and users listed in access_roles and access_user_ids).",
            existing_comment="public or internal (staff only).",
        )
        batch_op.alter_column(
            "mime_type",
            existing_type=sa.String(length=100),
            comment="Media type of the current version's file.",
            existing_comment="Media type of the file.",
        )
        batch_op.alter_column(
            "content_hash",
            existing_type=sa.String(length=64),
            comment="sha256 of the current version's bytes.",
            existing_comment="sha256 of the file's bytes.",
        )
        batch_op.create_unique_constraint(batch_op.f("uq_documents_source"), ["source"])

    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False, comment="Version row id."),
        sa.Column("document_id", sa.Integer(), nullable=False, comment="Document (documents.id)."),
        sa.Column(
            "version",
            sa.Integer(),
            nullable=False,
            comment="Version number within the document, from 1.",
        ),
        sa.Column(
            "filename", sa.String(length=255), nullable=False, comment="File name as ingested."
        ),
        sa.Column(
            "mime_type", sa.String(length=100), nullable=False, comment="Media type of the file."
        ),
        sa.Column("size_bytes", sa.Integer(), nullable=False, comment="Size of the file in bytes."),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 of the file's bytes.",
        ),
        sa.Column(
            "blob_key",
            sa.String(length=500),
            nullable=False,
            comment="Key of the original file in the blob store.",
        ),
        sa.Column(
            "page_count", sa.Integer(), nullable=True, comment="Pages, for PDFs; empty otherwise."
        ),
        sa.Column(
            "method",
            sa.String(length=60),
            nullable=False,
            comment="How the text was read, e.g. docling, docling+ocr:rapidocr, text.",
        ),
        sa.Column(
            "text",
            sa.Text(),
            nullable=False,
            comment="Extracted text (Markdown); chunk offsets refer to it.",
        ),
        sa.Column(
            "ingested_by",
            sa.Integer(),
            nullable=True,
            comment="User id that ingested it; empty for the operator or the system.",
        ),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, comment="When it was ingested (UTC)."
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        comment="Every ingested version of a document: its file, its text, how it was read.",
    )
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_document_versions_document_version", ["document_id", "version"], unique=True
        )

    op.create_table(
        "document_chunks",
        sa.Column(
            "id",
            sa.String(length=80),
            nullable=False,
            comment="Chunk id: document_id:version:ordinal.",
        ),
        sa.Column("document_id", sa.Integer(), nullable=False, comment="Document (documents.id)."),
        sa.Column(
            "version_id",
            sa.Integer(),
            nullable=False,
            comment="Version it was cut from (document_versions.id).",
        ),
        sa.Column(
            "ordinal", sa.Integer(), nullable=False, comment="Position in the version, from 0."
        ),
        sa.Column(
            "section",
            sa.String(length=500),
            nullable=True,
            comment="Heading path, e.g. 'Fees > Withdrawals'.",
        ),
        sa.Column(
            "page", sa.Integer(), nullable=True, comment="First page it comes from (PDF), from 1."
        ),
        sa.Column(
            "start_char",
            sa.Integer(),
            nullable=False,
            comment="Start offset in the version's text.",
        ),
        sa.Column(
            "end_char",
            sa.Integer(),
            nullable=False,
            comment="End offset (exclusive) in the version's text.",
        ),
        sa.Column(
            "text",
            sa.Text(),
            nullable=False,
            comment="The passage: the version's text from start to end.",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_chunks_version_id_document_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_chunks")),
        comment="Passages of each document's current version, as indexed.",
    )
    with op.batch_alter_table("document_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_chunks_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_document_chunks_version_id"), ["version_id"])


def downgrade() -> None:
    op.drop_table("document_chunks")
    op.drop_table("document_versions")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_documents_source"), type_="unique")
        batch_op.drop_column("access_user_ids")
        batch_op.drop_column("access_roles")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("current_version")
        batch_op.drop_column("source")
