"""Each role's home page: what needs attention now, and the figures behind it as charts that read at a glance."""
from decimal import Decimal

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import format_date, gettext, ngettext
from flask_login import current_user
from markupsafe import Markup

from certify.i18n import lazy_gettext, status_label
from certify.models.user import ROLES
from certify.security import roles_required
from certify.services import dashboard as figures
from certify.timeutil import as_utc, utcnow
from certify.web.charts import (
    Bar,
    LegendItem,
    Segment,
    Target,
    TargetRow,
    horizontal_bar_chart,
    stacked_column_chart,
    target_bar_chart,
)
from certify.web.formatting import check_title, number

home = Blueprint("home", __name__)

AGE_LABELS = {"under_1_day": lazy_gettext("under 1 day"), "1_to_7_days": lazy_gettext("1–7 days"),
              "7_to_30_days": lazy_gettext("7–30 days"), "over_30_days": lazy_gettext("over 30 days")}
# A decision is named by the status it leads to, in the words every badge uses.
DECISION_STATUSES = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}
# The verdict beside each recycled share: (text, CSS class), by the latest EU deadline the share meets.
VERDICTS = {"2036": (lazy_gettext("meets 2036 minimum"), "chart-note-ok"),
            "2031": (lazy_gettext("meets 2031 only"), "chart-note-warn"),
            "none": (lazy_gettext("below 2031 minimum"), "chart-note-bad"),
            None: (lazy_gettext("no EU minimum"), "chart-note-none")}
# Enough colours for the catalogue; a material keeps its colour on every chart (ordered by code).
SERIES_COLOURS = 8


@home.get("/")
def index():
    """Sends visitors to sign in and signed-in users to their role's home page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("home.dashboard"))


@home.get("/home")
@roles_required(*ROLES)
def dashboard():
    """The role's home page: its figures as charts, each with its numbers in a table, and what needs action."""
    now = utcnow()
    if current_user.role == "applicant":
        return render_template("home/dashboard.html", part="home/_applicant.html", **applicant_figures())
    if current_user.role == "reviewer":
        return render_template("home/dashboard.html", part="home/_reviewer.html", **reviewer_figures(now))
    return render_template("home/dashboard.html", part="home/_auditor.html", **auditor_figures(now))


# The applicant


def status_chart(counts: dict[str, int], chart_id: str, title: str) -> Markup:
    """Batches by status, one bar per workflow status in the badges' colours."""
    total = sum(counts.values())
    parts = ", ".join(f"{count} {status_label(status)}" for status, count in counts.items() if count)
    description = ngettext("%(num)d batch: %(parts)s.", "%(num)d batches: %(parts)s.", total, parts=parts)
    bars = [Bar(status_label(status), [Segment(count, f"fill-status-{status}")], value_text=str(count))
            for status, count in counts.items()]
    return horizontal_bar_chart(bars, chart_id=chart_id, title=title, description=description,
                                empty_text=gettext("No batches yet"))


def applicant_figures() -> dict:
    """The company's batches by status, what waits on the applicant, and lots nearly used up."""
    counts = figures.batch_counts_by_status(current_user)
    return {"status_counts": counts, "total_batches": sum(counts.values()),
            "status_chart": status_chart(counts, "batches-by-status", gettext("Your batches by status")),
            "needs_action": figures.batches_needing_action(current_user),
            "low_lots": figures.lots_running_low(current_user),
            "low_share_pct": figures.LOW_REMAINING_SHARE * 100,
            "records": figures.record_counts(current_user)}


# The reviewer


def queue_age_chart(queue_age: figures.QueueAge) -> Markup:
    """The review queue by waiting time: the longer a bucket, the warmer its colour."""
    bars = [Bar(str(AGE_LABELS[key]), [Segment(count, f"fill-age-{key}")], value_text=str(count))
            for key, count in queue_age.buckets.items()]
    description = ngettext("%(num)d batch awaiting review: %(parts)s.", "%(num)d batches awaiting review: %(parts)s.",
                           queue_age.total,
                           parts=", ".join(f"{AGE_LABELS[key]}: {count}" for key, count in queue_age.buckets.items()))
    return horizontal_bar_chart(bars, chart_id="queue-age", title=gettext("Waiting since submission"),
                                description=description, empty_text=gettext("The queue is empty"))


def decisions_chart(decisions: dict[str, dict[str, int]]) -> Markup:
    """This month's decisions by kind, each bar split into the reviewer's own and other reviewers'."""
    you, others = gettext("you"), gettext("other reviewers")
    bars = [Bar(status_label(DECISION_STATUSES[decision]),
                [Segment(split["me"], f"fill-decision-{decision}", you),
                 Segment(split["others"], f"fill-decision-{decision} fill-others", others)],
                value_text=gettext("%(total)d (%(mine)d by you)", total=split["me"] + split["others"], mine=split["me"])
                if split["me"] else str(split["others"]))
            for decision, split in decisions.items()]
    description = "; ".join(
        gettext("%(decision)s: %(mine)d by you, %(others)d by other reviewers",
                decision=status_label(DECISION_STATUSES[decision]),
                mine=split["me"], others=split["others"]) for decision, split in decisions.items())
    legend = [LegendItem(you, "fill-legend-you"), LegendItem(others, "fill-legend-others")]
    return horizontal_bar_chart(bars, chart_id="decisions-this-month", title=gettext("Decisions this month"),
                                description=description, legend=legend,
                                empty_text=gettext("No decisions this month yet"))


def reviewer_figures(now) -> dict:
    """The queue's size and age, the oldest waiting batch, this month's decisions and four-eyes batches half done."""
    queue_age = figures.review_queue_age(current_user, now)
    decisions = figures.decisions_this_month(current_user, now)
    return {"queue_age": queue_age, "queue_age_chart": queue_age_chart(queue_age), "age_labels": AGE_LABELS,
            "oldest": figures.oldest_waiting_batch(current_user),
            "oldest_days": (now - as_utc(queue_age.oldest_submitted_at)).days
            if queue_age.oldest_submitted_at else None,
            "decisions": decisions, "decision_statuses": DECISION_STATUSES, "decisions_chart": decisions_chart(decisions),
            "decisions_since": now.date().replace(day=1),
            "second_approvals": figures.awaiting_second_approval(current_user)}


# The auditor and the admin


def month_label(month) -> tuple[str, str]:
    """A month as a column label (localised short name) and a table label (2026-03)."""
    return format_date(month, "MMM"), month.strftime("%Y-%m")


def tonnage_chart(tonnage: figures.MonthlyTonnage, series_class: dict[str, str]) -> Markup:
    """Certified tonnes per month, stacked by material, with a legend of the materials present."""
    columns = []
    for index, month in enumerate(tonnage.months):
        segments = [Segment(tonnage.kg.get((month, code), Decimal(0)) / 1000, series_class[code], code)
                    for code in tonnage.material_codes]
        total_t = tonnage.month_total_kg(month) / 1000
        columns.append(Bar(month_label(month)[0], segments, value_text=number(total_t, 1) if total_t else "",
                           sublabel=str(month.year) if index == 0 or month.month == 1 else None))
    description = gettext(
        "%(total)s t certified from %(first)s to %(last)s; by material: %(parts)s.",
        total=number(tonnage.total_kg / 1000, 1), first=month_label(tonnage.months[0])[1],
        last=month_label(tonnage.months[-1])[1],
        parts=", ".join(f"{code} {number(kg / 1000, 1)} t"
                        for code, kg in sorted(figures.tonnage_by_material(tonnage).items())) or "–")
    legend = [LegendItem(code, series_class[code]) for code in tonnage.material_codes]
    return stacked_column_chart(columns, chart_id="tonnage-by-month", title=gettext("Certified tonnage by month"),
                                description=description, legend=legend, unit="t",
                                empty_text=gettext("No certificates in the last 12 months yet"))


def shares_chart(shares: list[figures.RecycledShare]) -> Markup:
    """Each material's recycled share (post- then pre-consumer) on 0–100 %, with its element's EU minimum lines."""
    post, pre = gettext("post-consumer"), gettext("pre-consumer")
    rows = []
    for share in shares:
        targets = []
        if share.eu_minimum_2031_pct is not None:
            targets.append(Target(share.eu_minimum_2031_pct, "chart-marker-2031", dashed=True,
                                  label=gettext("EU 2031 minimum: %(pct)s %%", pct=number(share.eu_minimum_2031_pct))))
        if share.eu_minimum_2036_pct is not None:
            targets.append(Target(share.eu_minimum_2036_pct, "chart-marker-2036",
                                  label=gettext("EU 2036 minimum: %(pct)s %%", pct=number(share.eu_minimum_2036_pct))))
        verdict, verdict_class = VERDICTS[share.meets]
        rows.append(TargetRow(
            Bar(share.material_code, [Segment(share.post_consumer_pct, "fill-post-consumer", post),
                                      Segment(share.pre_consumer_pct, "fill-pre-consumer", pre)],
                value_text=f"{number(share.recycled_pct, 1)} %", sublabel=share.element),
            targets, note=str(verdict), note_class=verdict_class))
    description = gettext(
        "Recycled share of each material certified in the last 12 months, weighted by quantity, against the EU "
        "minimums for 2031 and 2036 (Regulation (EU) 2023/1542, Article 8). %(parts)s",
        parts=" ".join(f"{share.material_code}: {number(share.recycled_pct, 1)} % ({VERDICTS[share.meets][0]})."
                       for share in shares))
    legend = [LegendItem(post, "fill-post-consumer"), LegendItem(pre, "fill-pre-consumer"),
              LegendItem(gettext("EU 2031 minimum"), "chart-marker-2031", "dashed"),
              LegendItem(gettext("EU 2036 minimum"), "chart-marker-2036", "line")]
    return target_bar_chart(rows, chart_id="recycled-shares", title=gettext("Recycled content against EU minimums"),
                            description=description, legend=legend,
                            empty_text=gettext("No certificates in the last 12 months yet"))


def failures_chart(failures: figures.CheckFailures) -> Markup:
    """The checks failed most often in the latest runs, longest bar first."""
    bars = [Bar(check_title(code), [Segment(count, "fill-fail")], value_text=str(count))
            for code, count in failures.counts]
    description = ngettext(
        "Checks failed in the latest check run of %(num)d batch checked in the last 90 days: %(parts)s.",
        "Checks failed in the latest check run of %(num)d batches checked in the last 90 days: %(parts)s.",
        failures.batches_checked, parts=", ".join(f"{code} {count}" for code, count in failures.counts) or "–")
    return horizontal_bar_chart(bars, chart_id="check-failures", title=gettext("Most frequent check failures"),
                                description=description,
                                empty_text=gettext("No failed checks in the last 90 days"))


def auditor_figures(now) -> dict:
    """Certified tonnage by month, recycled shares against the EU minimums, frequent failures, and counts."""
    materials = figures.catalogue_materials()
    series_class = {code: f"fill-series-{index % SERIES_COLOURS}" for index, code in enumerate(sorted(materials))}
    tonnage = figures.certified_tonnage_by_month(current_user, now)
    shares = figures.recycled_shares(current_user, tonnage.months[0])
    failures = figures.frequent_check_failures(current_user, now)
    status_counts = figures.batch_counts_by_status(current_user)
    context = {
        "tonnage": tonnage, "tonnage_chart": tonnage_chart(tonnage, series_class),
        "tonnage_by_material": figures.tonnage_by_material(tonnage), "series_class": series_class,
        "months": [(month, month_label(month)[1]) for month in tonnage.months],
        "shares": shares, "shares_chart": shares_chart(shares), "verdicts": VERDICTS,
        "without_eu_minimum": [material for material in materials.values() if not material.has_eu_minimum],
        "failures": failures, "failures_chart": failures_chart(failures), "check_title": check_title,
        "status_counts": status_counts, "total_batches": sum(status_counts.values()),
        "status_chart": status_chart(status_counts, "all-batches-by-status", gettext("Batches by status")),
        "certificate_counts": figures.certificate_counts_by_status(current_user),
        "materials": materials, "accounts": figures.account_counts() if current_user.role == "admin" else None,
    }
    return context
