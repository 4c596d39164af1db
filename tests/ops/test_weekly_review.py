"""saas_weekly_review under dag.test(): the week of 9 to 15 March 2026 on the support scenario (two paying
accounts since January, six tickets; tests/support/test_support_metrics.py), sent to Slack and by email through
the Resend double, once.

By hand: MRR 1,000.00 + 100.00 = 1,100.00 USD at the week's end and the same before it (+0.00); tickets opened 6,
resolved 4 (t1, t2, t5, t6), backlog 2 (t3, t4); first responses in time 3 of 6 due (50.0%); CSAT (5 + 3 + 4) / 3
= 4.00 from 3 ratings, 75% of the 4 resolved. Engagement, churn scores, campaigns and backups were not built:
n/a, and the review says saas_engagement is behind."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from saas_ops.db import compose
from saas_ops.ops.weekly_review import week_of
from tests.harness import scenarios
from tests.harness.dag_runs import pack_dag
from tests.support.test_support_metrics import PERIODS, POLICIES, TICKETS, load_tickets

OUT = "review_out"


def test_the_week_is_the_last_whole_iso_week():
    assert week_of(dt.date(2026, 3, 15)) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))  # a Sunday: its week
    assert week_of(dt.date(2026, 3, 16)) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))  # a Monday: the one before
    assert week_of(dt.date(2026, 3, 21)) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))


@pytest.fixture
def built_week(airflow_env, databases, monkeypatch):
    """saas_mrr and saas_support run by dag.test() through Sunday 15 March into an output schema of their own (no
    other test's rows in the review)."""
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], PERIODS)
    load_tickets(databases["app"], TICKETS)
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", OUT)
    monkeypatch.setenv("AIRFLOW_VAR_SLA_POLICIES", POLICIES)
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {o} CASCADE", o=OUT))
    for dag_id in ("saas_mrr", "saas_support"):
        assert pack_dag(dag_id).test(logical_date=dt.datetime(2026, 3, 16, 2, tzinfo=dt.UTC)).state == "success"
    with psycopg.connect(databases["warehouse"]) as conn:
        yield conn


def test_the_review_goes_to_slack_and_by_email_once(built_week, slack_receiver, resend_double, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_REVIEW_EMAILS", "ceo@example.com, data@example.com")
    monkeypatch.setenv("AIRFLOW_VAR_OPS_PAGE_URL", "https://airflow.example.com/saas-ops/")
    slack_receiver.reset()
    resend_double.reset()
    monday = dt.datetime(2026, 3, 16, 7, tzinfo=dt.UTC)
    assert pack_dag("saas_weekly_review").test(logical_date=monday).state == "success"

    [email] = resend_double.emails
    assert email["to"] == ["ceo@example.com", "data@example.com"]
    assert email["subject"] == "Acme: weekly review, 09 Mar – 15 Mar 2026"
    text = email["text"]
    for line in ("  MRR at the week's end: 1,100.00 USD", "  change over the week: +0.00 USD",
                 "  paying customers: 2", "  tickets opened / resolved: 6 / 4", "  backlog at the week's end: 2",
                 "  first-response SLA attainment: 50.0% (3 of 6 in time)",
                 "  CSAT: 4.00 / 5 (3 ratings, 75% of resolved)", "  DAU, the week's mean: n/a",
                 "  accounts in the high band: n/a (no scores this week)", "  backups succeeded / failed: 0 / 0"):
        assert line in text.splitlines(), line
    assert "saas_engagement is complete through None only" in text  # the others are built through the Sunday
    assert "saas_mrr is complete" not in text and "saas_support is complete" not in text
    html = email["html"]
    assert "<script" not in html and html.count("<table") == 8  # the frame, its card and one per section
    assert "<td align=\"right\" style=\"padding:3px 0;font-variant-numeric:tabular-nums\">50.0% (3 of 6 in time)" \
           in html
    assert 'href="https://airflow.example.com/saas-ops/"' in html

    [slack] = slack_receiver.texts()
    assert slack.splitlines()[0] == ":bar_chart: Weekly review, 09 Mar – 15 Mar 2026"
    assert "Support: tickets opened / resolved 6 / 4 · backlog at the week's end 2 · first-response SLA " \
           "attainment 50.0% (3 of 6 in time)" in slack.splitlines()
    sent = built_week.execute(compose("SELECT week_start, recipients, cardinality(channels_sent) "
                                      "FROM {o}.weekly_reviews", o=OUT)).fetchall()
    assert sent == [(dt.date(2026, 3, 9), ["ceo@example.com", "data@example.com"], 2)]
    built_week.commit()

    later = dt.datetime(2026, 3, 18, 9, tzinfo=dt.UTC)  # triggered by hand on the Wednesday: the same week
    assert pack_dag("saas_weekly_review").test(logical_date=later).state == "success"
    assert len(resend_double.emails) == 1 and len(slack_receiver.texts()) == 1
