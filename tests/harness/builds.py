"""Builds of the incremental outputs as their DAGs' tasks do (build, check, advance the watermark), outside
Airflow, and what tests compare: each build's outputs, emptied or read whole."""

from __future__ import annotations

import datetime as dt

import psycopg

from saas_ops import config, db, incremental
from saas_ops.engagement import metrics
from saas_ops.revenue import mrr

REVENUE_TABLES = {"mrr_daily": "day", "customer_mrr_monthly": "month, customer_id", "mrr_monthly": "month",
                  "customer_mrr_changes": "day, customer_id", "mrr_by_dimension_monthly": "month, dimension, value"}
ENGAGEMENT_TABLES = {"engagement_daily": "day", "account_engagement_daily": "day, customer_id",
                     "feature_adoption": "day, feature", "retention_cohorts": "cohort_month, months_since"}


def run_revenue(day: str, *, full: bool = False, run_id: str | None = None, **settings: float) -> dict:
    """What saas_mrr's build and bridge-check tasks do for a run closing `day` (`settings`: gross_margin,
    trial_days)."""
    summary = mrr.build(dt.date.fromisoformat(day), full_refresh=full, run_id=run_id or f"test:{day}",
                        output_schema="saas_ops", source_schema="app", reporting_currency="USD", **settings)
    window = incremental.Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        assert mrr.REVENUE.problems(wh, "saas_ops", window) == []
        mrr.REVENUE.advance(wh, "saas_ops", window.day, run_id or "test")
    return summary


def run_engagement(day: str, *, full: bool = False, late_days: int = 3, rebuild_from: str | None = None) -> dict:
    """What saas_engagement's build and check tasks do for a run closing `day` (ENGAGEMENT_LATE_DAYS 3), with the
    clock at noon the day after, as a nightly run has it."""
    window = metrics.plan_for(dt.date.fromisoformat(day), full, output_schema="saas_ops", source_schema="app",
                              late_days=late_days,
                              rebuild_from=dt.date.fromisoformat(rebuild_from) if rebuild_from else None)
    clock = dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=1), dt.time(12), dt.UTC)
    summary = metrics.build(window, run_id=f"test:{day}", output_schema="saas_ops", source_schema="app",
                            features=config.core_features(), now=clock)
    with db.warehouse() as wh:
        assert metrics.ENGAGEMENT.problems(wh, "saas_ops", window) == []
        metrics.ENGAGEMENT.advance(wh, "saas_ops", window.day, "test")
    return summary


def build_metrics(end: dt.date, features: list[str], *, output_schema: str = "saas_ops",
                  source_schema: str = "app") -> None:
    """Full saas_mrr and saas_engagement builds through `end`, as their DAGs' tasks do."""
    summary = mrr.build(end, full_refresh=True, run_id="test", output_schema=output_schema,
                        source_schema=source_schema, reporting_currency="USD")
    window = metrics.plan_for(end, True, output_schema=output_schema, source_schema=source_schema)
    metrics.build(window, run_id="test", output_schema=output_schema, source_schema=source_schema, features=features)
    with db.warehouse() as wh:
        assert mrr.REVENUE.problems(wh, output_schema, incremental.Window.from_xcom(summary["window"])) == []
        mrr.REVENUE.advance(wh, output_schema, end, "test")
        metrics.ENGAGEMENT.advance(wh, output_schema, end, "test")


def reset_revenue(conn: psycopg.Connection) -> None:
    """Empties saas_mrr's outputs, state and watermarks."""
    conn.execute("TRUNCATE " + ", ".join(f"saas_ops.{table}" for table in (*mrr.OUTPUTS, *mrr.STATE_TABLES,
                                                                           "data_quality_issues")))
    conn.execute("DELETE FROM saas_ops.watermarks WHERE dag_id = 'saas_mrr'")
    conn.commit()


def reset_engagement(conn: psycopg.Connection) -> None:
    """Empties saas_engagement's outputs, state, watermarks and reported issues."""
    db.migrate(conn)
    for table in (*metrics.OUTPUTS, *metrics.STATE_TABLES):
        conn.execute(f"TRUNCATE saas_ops.{table}")
    conn.execute("DELETE FROM saas_ops.watermarks WHERE dag_id = 'saas_engagement'")
    conn.execute("DELETE FROM saas_ops.data_quality_issues WHERE dag_id = 'saas_engagement'")
    conn.commit()


def revenue_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every row of saas_mrr's outputs, in a stable order."""
    return {t: conn.execute(f"SELECT * FROM saas_ops.{t} ORDER BY {order}").fetchall()
            for t, order in REVENUE_TABLES.items()}


def engagement_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every row of saas_engagement's outputs, in a stable order."""
    return {t: conn.execute(f"SELECT * FROM saas_ops.{t} ORDER BY {order}").fetchall()
            for t, order in ENGAGEMENT_TABLES.items()}
