"""the review queue's indexes: awaiting-review batches in submission order, the companies among them, and each
run's warnings

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # Without the first, every queue page sorted the whole queue; without the second, the company filter's
    # choices read every batch in the queue.
    op.create_index("ix_batches_status_submitted_at_id", "batches", ["status", "submitted_at", "id"])
    op.create_index("ix_batches_status_company_id", "batches", ["status", "company_id"])
    # Partial: only warnings are counted, and they are few.
    op.create_index("ix_check_results_warnings", "check_results", ["check_run_id"],
                    postgresql_where=sa.text("outcome = 'warn'"), sqlite_where=sa.text("outcome = 'warn'"))


def downgrade():
    op.drop_index("ix_check_results_warnings", table_name="check_results")
    op.drop_index("ix_batches_status_company_id", table_name="batches")
    op.drop_index("ix_batches_status_submitted_at_id", table_name="batches")
