"""People within organisations: console sign-in by email and password (argon2), an
optional TOTP second factor, invitations and password resets by single-use token, failed
sign-ins counted per email; web sessions of a person or of an API key; the person who
acted on each history row, and who uploaded each upload.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_confirmed_at", TIMESTAMP, nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_people_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_index(op.f("ix_people_organisation_id"), "people", ["organisation_id"])
    op.create_table(
        "person_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_person_tokens_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_person_tokens_token_hash")),
    )
    op.create_index(op.f("ix_person_tokens_person_id"), "person_tokens", ["person_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_email_at", "sign_in_failures", ["email", "at"])
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.alter_column("api_key_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_web_sessions_person_id_people"), "people",
                                    ["person_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"])
    with op.batch_alter_table("hawb_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_person_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by", sa.String(length=200), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("uploaded_by")
    with op.batch_alter_table("hawb_history", schema=None) as batch_op:
        batch_op.drop_column("actor_person_id")
    # Sessions of people have no key: they end with the people.
    op.execute("DELETE FROM web_sessions WHERE api_key_id IS NULL")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_person_id"))
        batch_op.drop_constraint(batch_op.f("fk_web_sessions_person_id_people"),
                                 type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("api_key_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_sign_in_failures_email_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index(op.f("ix_person_tokens_person_id"), table_name="person_tokens")
    op.drop_table("person_tokens")
    op.drop_index(op.f("ix_people_organisation_id"), table_name="people")
    op.drop_table("people")
