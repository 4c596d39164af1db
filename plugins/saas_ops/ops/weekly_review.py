"""saas_weekly_review: the week's figures (Monday to Sunday) from the pack's outputs, as a short Slack message and
an email with an HTML part (include/templates/review/weekly_review.html) to REVIEW_EMAILS, once per week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    import psycopg

# The sections whose figures a DAG builds incrementally, and the output whose watermark says how far.
BUILT_BY = {"Revenue": ("saas_mrr", "mrr_daily"), "Engagement": ("saas_engagement", "engagement_daily"),
            "Support": ("saas_support", "support_daily")}


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The last whole ISO week (Monday to Sunday) that ended on or before `day`."""
    end = day - dt.timedelta(days=(day.weekday() + 1) % 7)
    return end - dt.timedelta(days=6), end


@dataclass
class Section:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (what, value) as the review shows them
    notes: list[str] = field(default_factory=list)


def _money(cents: Any, currency: str, *, signed: bool = False) -> str:
    from saas_ops.alerts import money

    return "n/a" if cents is None else money(int(cents), currency, signed=signed)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def figures(wh: psycopg.Connection, schema: str, week_start: dt.date, week_end: dt.date, *, currency: str,
            cost_per_1000: float) -> list[Section]:
    """The review's sections, read from the outputs; a figure not built yet reads n/a."""
    from saas_ops import incremental
    from saas_ops.campaigns import outcomes
    from saas_ops.db import fetch_sql_file

    week = {"week_start": week_start, "week_end": week_end}

    def one(path: str) -> tuple:
        return fetch_sql_file(wh, path, week, schema=schema)[0]

    mrr, mrr_before, paying, new, expansion, contraction, churn, reactivation = one("review/revenue.sql")
    revenue = Section("Revenue", [
        ("MRR at the week's end", _money(mrr, currency)),
        ("change over the week", _money(None if mrr is None or mrr_before is None else mrr - mrr_before, currency,
                                        signed=True)),
        ("paying customers", _count(paying)),
        ("new / reactivation", f"{_money(new, currency)} / {_money(reactivation, currency)}"),
        ("expansion / contraction", f"{_money(expansion, currency)} / {_money(contraction, currency)}"),
        ("churn", _money(churn, currency))])
    month = fetch_sql_file(wh, "review/revenue_month.sql", week, schema=schema)
    if month:
        label, nrr, grr, logo_churn, quick_ratio, ltv = month[0]
        revenue.rows += [(f"NRR / GRR ({label:%B %Y})", f"{_pct(nrr)} / {_pct(grr)}"),
                         (f"logo churn / quick ratio ({label:%B})",
                          f"{_pct(logo_churn)} / {'n/a' if quick_ratio is None else f'{quick_ratio:.2f}'}"),
                         (f"LTV ({label:%B})", _money(ltv, currency))]

    dau, dau_before, wau, mau, stickiness = one("review/engagement.sql")
    engagement = Section("Engagement", [
        ("DAU, the week's mean", _count(dau) + (f" ({(dau - dau_before) / dau_before:+.1%} on the week before)"
                                                 if dau is not None and dau_before else "")),
        ("WAU / MAU at the week's end", f"{_count(wau)} / {_count(mau)}"),
        ("stickiness (DAU/MAU)", _pct(stickiness))])

    scored_day, high, entered, at_risk = one("review/churn_risk.sql")
    risk = Section("Churn risk", [("accounts in the high band" + (f" on {scored_day}" if scored_day else ""),
                                   _count(high) if scored_day else "n/a (no scores this week)"),
                                  ("entered the high band this week", _count(entered) if scored_day else "n/a"),
                                  ("MRR at risk (MRR × probability)", _money(at_risk if scored_day else None,
                                                                               currency))])

    sends = dict(fetch_sql_file(wh, "review/emails.sql", week, schema=schema))
    campaigns = Section("Campaigns", [("emails of the week's runs", ", ".join(
        f"{status} {n:,}" for status, n in sends.items()) or "none")])
    recent = outcomes.recent_effects(wh, schema, cost_per_1000)
    campaigns.notes = outcomes.summary_lines(recent[2], currency) if recent else ["no measured cohort yet"]

    opened, backlog, resolved, csat, csat_responses, due, met = fetch_sql_file(
        wh, "support/period_summary.sql", {"first_day": week_start, "last_day": week_end}, schema=schema)[0]
    support = Section("Support", [
        ("tickets opened / resolved", f"{_count(opened)} / {_count(resolved)}"),
        ("backlog at the week's end", _count(backlog)),
        ("first-response SLA attainment", f"{_pct(met / due)} ({met:,} of {due:,} in time)" if due else "n/a"),
        ("CSAT", f"{csat:.2f} / 5 ({csat_responses:,} ratings, {csat_responses / resolved:.0%} of resolved)"
         if csat is not None and resolved else "n/a")])

    good, failed, newest, drills_passed, drills_failed, rto = one("review/backups.sql")
    backups = Section("Backups and drills", [
        ("backups succeeded / failed", f"{good} / {failed}"),
        ("newest good backup", f"{newest:%Y-%m-%d %H:%M} UTC" if newest else "none"),
        ("restore drills passed / failed", f"{drills_passed} / {drills_failed}"),
        ("last drill's restore time", f"{rto:,.0f} s" if rto is not None else "n/a")])
    rpo_end, rpo_worst, earliest, drill_rpo, drill_rto, rto_target, drill_status = one("review/point_in_time.sql")
    if rpo_end is not None or drill_status is not None:
        backups.rows += [
            ("RPO at the week's end / worst", f"{rpo_end or 0:,.0f} s / {rpo_worst or 0:,.0f} s"),
            ("restorable from", f"{earliest:%Y-%m-%d %H:%M} UTC" if earliest else "no base backup"),
            ("last physical drill", f"{drill_status}: RPO {drill_rpo or 0:,.1f} s, RTO {drill_rto or 0:,.0f} s "
             f"(target {rto_target or 0:,.0f} s)" if drill_status else "none")]

    sections = [revenue, engagement, risk, campaigns, support, backups]
    for section in sections:
        if section.title in BUILT_BY:
            dag_id, output = BUILT_BY[section.title]
            through = incremental.read_watermark(wh, schema, output)
            if through is None or through < week_end:
                section.notes.insert(0, f"Not up to the week's end: {dag_id} is complete through {through} only.")
    return sections


def slack_text(sections: list[Section], week_start: dt.date, week_end: dt.date, page_url: str) -> str:
    """The short Slack message: each section's first figures, then the page."""
    lines = [f":bar_chart: Weekly review, {week_start:%d %b} – {week_end:%d %b %Y}"]
    for section in sections:
        lines.append(f"{section.title}: " + " · ".join(f"{what} {value}" for what, value in section.rows[:3]))
    lines.append(f"Full review by email to REVIEW_EMAILS; the SaaS Ops page: {page_url}")
    return "\n".join(lines)


def email_text(sections: list[Section], week_start: dt.date, week_end: dt.date, page_url: str) -> str:
    """The email's plain-text part: every figure, a line each."""
    lines = [f"Weekly review, {week_start:%d %b} – {week_end:%d %b %Y}", ""]
    for section in sections:
        lines += [section.title, *(f"  {what}: {value}" for what, value in section.rows),
                  *(f"  {note}" for note in section.notes), ""]
    lines.append(f"The SaaS Ops page: {page_url}")
    return "\n".join(lines)


def email_html(sections: list[Section], week_start: dt.date, week_end: dt.date, page_url: str, product: str) -> str:
    """The email's HTML part: one table per section, inline styles, no script (autoescaped)."""
    import jinja2

    from saas_ops import config

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(config.include_dir() / "templates" / "review")),
                             undefined=jinja2.StrictUndefined, autoescape=True)
    return env.get_template("weekly_review.html").render(sections=sections, week_start=week_start,
                                                         week_end=week_end, page_url=page_url, product=product)


def send_review(day: dt.date, *, run_id: str) -> dict[str, Any]:
    """Sends the week's review once: claims the week, emails REVIEW_EMAILS (Resend, SMTP or the outbox) and posts
    to Slack; a failure releases the claim (Resend's idempotency key keeps a retried email from going twice)."""
    from saas_ops import alert_channels, config, db
    from saas_ops.db import fetch_sql_file, run_sql_file
    from saas_ops.untrusted import one_line

    week_start, week_end = week_of(day)
    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    recipients = [a.strip() for a in config.setting("REVIEW_EMAILS").split(",") if a.strip()]
    page_url = config.setting("OPS_PAGE_URL")
    with db.warehouse() as wh:
        claimed = fetch_sql_file(wh, "review/claim_week.sql", {"week_start": week_start, "run_id": run_id,
                                                               "recipients": recipients}, schema=schema)
        if not claimed:
            print(f"the review of the week {week_start} .. {week_end} was sent already: nothing to send")
            return {"week_start": week_start.isoformat(), "sent": []}
        sections = figures(wh, schema, week_start, week_end, currency=currency,
                           cost_per_1000=config.setting("EMAIL_COST_PER_1000"))
        text = email_text(sections, week_start, week_end, page_url)
        print(text)
        sent = []
        if recipients:
            subject = one_line(f"{config.setting('PRODUCT_NAME')}: weekly review, {week_start:%d %b} – "
                               f"{week_end:%d %b %Y}", 250)
            where = alert_channels.send_email(
                config.setting("ALERT_EMAIL_FROM"), recipients, subject, text,
                html_body=email_html(sections, week_start, week_end, page_url, config.setting("PRODUCT_NAME")),
                idempotency_key=f"weekly_review/{schema}/{week_start}", outbox_folder="review_emails")
            sent.append(f"email ({where})")
        else:
            print("REVIEW_EMAILS is empty: the review goes to Slack only")
        sent.append(f"slack ({alert_channels.send_slack(slack_text(sections, week_start, week_end, page_url))})")
        run_sql_file(wh, "review/review_sent.sql", {"week_start": week_start, "channels": sent}, schema=schema)
    print(f"weekly review of {week_start} .. {week_end} sent: {', '.join(sent)}")
    return {"week_start": week_start.isoformat(), "sent": sent}


@task
def send_weekly_review(**context: Any) -> dict[str, Any]:
    """The week's review, to Slack and REVIEW_EMAILS, once per week."""
    from saas_ops.dates import day_closed

    return send_review(day_closed(context), run_id=context["run_id"])
