"""Initial schema: accounts, HTS schedule, manifests, uploads, HAWBs, lines, row errors.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hawb_lines',
    sa.Column('hawb_id', sa.BigInteger(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('hts_code', sa.Text(), nullable=True),
    sa.Column('origin_country', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('value_cents', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.Text(), nullable=True),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('hawb_id', 'row_no', name=op.f('pk_hawb_lines'))
    )
    op.create_table('hawbs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('manifest_id', sa.BigInteger(), nullable=False),
    sa.Column('upload_id', sa.BigInteger(), nullable=False),
    sa.Column('hawb_no', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('shipper_name', sa.Text(), nullable=True),
    sa.Column('shipper_address', sa.Text(), nullable=True),
    sa.Column('shipper_city', sa.Text(), nullable=True),
    sa.Column('shipper_country', sa.Text(), nullable=True),
    sa.Column('consignee_name', sa.Text(), nullable=True),
    sa.Column('consignee_address1', sa.Text(), nullable=True),
    sa.Column('consignee_address2', sa.Text(), nullable=True),
    sa.Column('consignee_city', sa.Text(), nullable=True),
    sa.Column('consignee_state', sa.Text(), nullable=True),
    sa.Column('consignee_zip', sa.Text(), nullable=True),
    sa.Column('consignee_country', sa.Text(), nullable=True),
    sa.Column('consignee_phone', sa.Text(), nullable=True),
    sa.Column('consignee_email', sa.Text(), nullable=True),
    sa.Column('pieces', sa.Integer(), nullable=True),
    sa.Column('gross_weight_kg', sa.Numeric(precision=12, scale=3), nullable=True),
    sa.Column('carrier', sa.Text(), nullable=True),
    sa.Column('tracking_no', sa.Text(), nullable=True),
    sa.Column('total_value_cents', sa.BigInteger(), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('first_row', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('created_at', TIMESTAMP, server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hawbs')),
    sa.UniqueConstraint('manifest_id', 'hawb_no', name=op.f('uq_hawbs_manifest_id_hawb_no'))
    )
    op.create_table('hts_lines',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('full_description', sa.Text(), nullable=False),
    sa.Column('unit', sa.Text(), nullable=False),
    sa.Column('general_rate', sa.Text(), nullable=False),
    sa.Column('edition', sa.String(length=60), nullable=False),
    sa.Column('imported_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_hts_lines'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('revoked_at', TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_api_keys_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('manifests',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('forwarder_id', sa.Integer(), nullable=False),
    sa.Column('mawb', sa.String(length=11), nullable=False),
    sa.Column('flight_no', sa.String(length=8), nullable=False),
    sa.Column('arrival_date', sa.Date(), nullable=False),
    sa.Column('port', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('hawb_count', sa.Integer(), nullable=False),
    sa.Column('invalid_hawb_count', sa.Integer(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['forwarder_id'], ['organisations.id'], name=op.f('fk_manifests_forwarder_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifests')),
    sa.UniqueConstraint('mawb', name=op.f('uq_manifests_mawb'))
    )
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.create_index('ix_manifests_forwarder_arrival', ['forwarder_id', 'arrival_date'], unique=False)
        batch_op.create_index('ix_manifests_port_arrival', ['port', 'arrival_date'], unique=False)

    op.create_table('uploads',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('manifest_id', BIG_ID, nullable=False),
    sa.Column('forwarder_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('hawbs_received', sa.Integer(), nullable=False),
    sa.Column('hawbs_valid', sa.Integer(), nullable=False),
    sa.Column('hawbs_invalid', sa.Integer(), nullable=False),
    sa.Column('hawbs_replaced', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('unassigned_rows', sa.Integer(), nullable=False),
    sa.Column('column_mapping', sa.Text(), nullable=False),
    sa.Column('ignored_columns', sa.Text(), nullable=False),
    sa.Column('received_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['forwarder_id'], ['organisations.id'], name=op.f('fk_uploads_forwarder_id_organisations')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_uploads_manifest_id_manifests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('forwarder_id', 'idempotency_key', name=op.f('uq_uploads_forwarder_id_idempotency_key'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_manifest_sha', ['manifest_id', 'file_sha256'], unique=False)

    op.create_table('row_errors',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('upload_id', BIG_ID, nullable=False),
    sa.Column('manifest_id', BIG_ID, nullable=False),
    sa.Column('hawb_no', sa.String(length=100), nullable=True),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('column_name', sa.String(length=40), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_row_errors_manifest_id_manifests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_row_errors_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_row_errors'))
    )
    with op.batch_alter_table('row_errors', schema=None) as batch_op:
        batch_op.create_index('ix_row_errors_manifest_upload_hawb', ['manifest_id', 'upload_id', 'hawb_no'], unique=False)
        batch_op.create_index('ix_row_errors_upload_row', ['upload_id', 'row_no'], unique=False)

    op.create_table('unassigned_rows',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('upload_id', BIG_ID, nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_unassigned_rows_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unassigned_rows'))
    )
    with op.batch_alter_table('unassigned_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unassigned_rows_upload_id'), ['upload_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unassigned_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unassigned_rows_upload_id'))

    op.drop_table('unassigned_rows')
    with op.batch_alter_table('row_errors', schema=None) as batch_op:
        batch_op.drop_index('ix_row_errors_upload_row')
        batch_op.drop_index('ix_row_errors_manifest_upload_hawb')

    op.drop_table('row_errors')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_uploads_manifest_sha')

    op.drop_table('uploads')
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_index('ix_manifests_port_arrival')
        batch_op.drop_index('ix_manifests_forwarder_arrival')

    op.drop_table('manifests')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_organisation_id'))

    op.drop_table('api_keys')
    op.drop_table('organisations')
    op.drop_table('hts_lines')
    op.drop_table('hawbs')
    op.drop_table('hawb_lines')
