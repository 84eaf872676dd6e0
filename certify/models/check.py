"""Check runs and their results: one run per submission, one result per check code."""
import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.models.types import UtcDateTime, one_of
from certify.timeutil import utcnow

RUN_STATES = ("queued", "done", "abandoned")
OUTCOMES = ("pass", "warn", "fail")


class CheckRun(db.Model):
    """The database is the source of truth for a run: its state survives a lost broker message."""

    __tablename__ = "check_runs"
    __table_args__ = (
        CheckConstraint(one_of("state", RUN_STATES), name="state_known"),
        Index("ix_check_runs_batch_id_id", "batch_id", "id"),
        Index("ix_check_runs_state_queued_at", "state", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    material_code: Mapped[str] = mapped_column(ForeignKey("materials.code"))
    ruleset_version: Mapped[int | None]
    computed: Mapped[dict | None] = mapped_column(JSON)
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    results: Mapped[list["CheckResult"]] = relationship(order_by="CheckResult.position")


class CheckResult(db.Model):
    __tablename__ = "check_results"
    __table_args__ = (
        # A redelivered task can never store a code twice for one run.
        UniqueConstraint("check_run_id", "code"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome_known"),
        # The review queue counts each run's warnings on every row, and filters on them.
        Index("ix_check_results_warnings", "check_run_id", postgresql_where=text("outcome = 'warn'"),
              sqlite_where=text("outcome = 'warn'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    message_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict] = mapped_column(JSON)
    details: Mapped[dict] = mapped_column(JSON)
