"""indexes for the audit search by number prefix on batches and certificates

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # The search matches numbers by prefix (LIKE 'KR-RM-2025-%'). PostgreSQL uses an ordinary index for LIKE only
    # under the C collation, so without these a number typed in full read every certificate (65 ms at 83,000).
    op.create_index("ix_batches_number_prefix", "batches", ["number"],
                    postgresql_ops={"number": "varchar_pattern_ops"})
    op.create_index("ix_certificates_number_prefix", "certificates", ["number"],
                    postgresql_ops={"number": "varchar_pattern_ops"})


def downgrade():
    op.drop_index("ix_certificates_number_prefix", table_name="certificates")
    op.drop_index("ix_batches_number_prefix", table_name="batches")
