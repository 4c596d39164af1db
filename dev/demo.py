"""`make demo`: a working pack on this machine, end to end, and a summary of what came out.

1. Uses the databases in AIRFLOW_CONN_SAAS_DB / AIRFLOW_CONN_WAREHOUSE_DB when set; otherwise starts the
   embedded PostgreSQL in .local/pg and loads demo data (5,000 customers, 2 years, seed 7) into `saas_app`.
   The embedded server archives its WAL to a local Barman server (`archiving.setup()`), so db_backup takes a
   base backup and db_restore_drill restores the database as it was at a moment between two marks.
2. Prepares Airflow in .local/airflow (SQLite metadata), with the pack's connections as environment
   variables, and runs every DAG in dags/ once with `airflow dags test`, in pipeline order. With its own demo
   data it first gives the campaigns six weeks of past nights and the emails a modelled effect
   (demo_history.py), so campaign results have closed cohorts to show.
3. Prints the source's row counts, each DAG's outcome, the outputs' row counts and the local outbox.

`--serve` then starts Airflow itself (API server on http://127.0.0.1:8080, scheduler, DAG processor, triggerer:
airflow_services.py) with the same setup, until Ctrl-C or SIGTERM, which also stops the embedded PostgreSQL.
The demo's runs have the logical date of the moment they ran (not midnight), so a run triggered in the UI for
any date of your choosing does not collide with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dev import devdb
from dev.demo_history import DEMO_VARIANTS
from saas_ops import config

# Pipeline order; DAGs not written yet are skipped.
DAG_ORDER = ["saas_mrr", "saas_support", "support_sla_watch", "saas_engagement", "churn_train", "churn_score",
             "reengagement_campaigns", "db_backup", "backup_archive_watch", "db_restore_drill",
             "db_restore_drill_monthly", "ops_watchdog", "saas_weekly_review"]
DEMO_CUSTOMERS, DEMO_MONTHS, DEMO_SEED = 5000, 24, 7


def airflow_env(home: Path, app_uri: str, warehouse_uri: str) -> dict[str, str]:
    """The environment Airflow and the pack run with in the demo: local mode for Slack, Resend, S3."""
    root = config.project_home()
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the pack's own lines (watermarks, local mode) in task logs
        "AIRFLOW__API__BASE_URL": "http://127.0.0.1:8080",
        "AIRFLOW_CONN_SAAS_DB": app_uri,
        "AIRFLOW_CONN_WAREHOUSE_DB": warehouse_uri,
        "AIRFLOW_VAR_ALERT_EMAILS": os.environ.get("AIRFLOW_VAR_ALERT_EMAILS", "data-team@example.com"),
        "AIRFLOW_VAR_REVIEW_EMAILS": os.environ.get("AIRFLOW_VAR_REVIEW_EMAILS", "leadership@example.com"),
        "AIRFLOW_VAR_LOCAL_DIR": str(home),
        # Dry run (no Resend key): render the whole day's audience, not the first 500 by priority.
        "AIRFLOW_VAR_EMAIL_MAX_PER_RUN": os.environ.get("AIRFLOW_VAR_EMAIL_MAX_PER_RUN", "5000"),
        "AIRFLOW_VAR_CAMPAIGN_VARIANTS": os.environ.get("AIRFLOW_VAR_CAMPAIGN_VARIANTS", DEMO_VARIANTS),
        "PYTHONPATH": f"{root / 'plugins'}:{root}",
        # `airflow standalone` starts its components as `airflow ...` commands: the venv's bin must be on PATH.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "SAAS_OPS_HOME": str(root),
    }


def _databases(home: Path, customers: int, reload: bool) -> tuple[str, str, bool]:
    """(saas_db URI, warehouse_db URI, whether the embedded server was started)."""
    if os.environ.get("AIRFLOW_CONN_SAAS_DB"):
        print("Using your databases (AIRFLOW_CONN_SAAS_DB is set); no demo data is loaded into them.")
        return os.environ["AIRFLOW_CONN_SAAS_DB"], os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB",
                                                                  os.environ["AIRFLOW_CONN_SAAS_DB"]), False
    server = devdb.start(home / "pg", archiving=True)
    print(f"Embedded PostgreSQL ({server.bin_dir}) on 127.0.0.1:{server.port}, data in {server.folder}")
    app = server.create_database("saas_app")
    if not reload and _has_demo_data(app):
        return app, server.create_database("saas_warehouse"), True
    # Fresh demo data, fresh outputs: an earlier load's figures, models and watermarks would not match it.
    warehouse = server.create_database("saas_warehouse", drop_first=True)
    from dev import demo_data

    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # runs today close yesterday
    print(f"Loading demo data: {customers:,} customers, {DEMO_MONTHS} months to {end}, seed {DEMO_SEED}")
    demo_data.load(app, customers=customers, months=DEMO_MONTHS, seed=DEMO_SEED, end=end)
    return app, warehouse, True


def _has_demo_data(app: str) -> bool:
    import psycopg

    with psycopg.connect(app) as conn:
        return conn.execute("SELECT to_regclass('app.customers') IS NOT NULL").fetchone()[0]


def _airflow(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "airflow", *args]
    if log is None:
        return subprocess.run(cmd, env=env, capture_output=True, text=True)
    with log.open("w") as fh:
        return subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, text=True)


def _summary(app: str, warehouse: str, home: Path) -> None:
    import psycopg

    print("\nSource (saas_db, schema app):")
    with psycopg.connect(app) as conn:
        for table in ("customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
                      "support_tickets", "fx_rates", "acquisition_spend"):
            n = conn.execute(f"SELECT count(*) FROM app.{table}").fetchone()[0]
            print(f"  {table:<22}{n:>12,}")
        paying = conn.execute("SELECT count(DISTINCT customer_id) FROM app.subscription_periods "
                              "WHERE valid_to IS NULL AND status IN ('active', 'past_due')").fetchone()[0]
        print(f"  customers with a live paid subscription: {paying:,}")
    print("\nOutputs (warehouse_db, schema saas_ops):")
    with psycopg.connect(warehouse) as conn:
        tables = conn.execute("SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON "
                              "n.oid = c.relnamespace WHERE n.nspname = 'saas_ops' AND c.relkind = 'r' "
                              "ORDER BY 1").fetchall()
        for table, _ in tables:
            n = conn.execute(f'SELECT count(*) FROM saas_ops."{table}"').fetchone()[0]
            print(f"  {table:<26}{n:>10,}")
        for kind, title in conn.execute("SELECT kind, summary FROM saas_ops.alert_log ORDER BY alert_id DESC "
                                        "LIMIT 5").fetchall():
            print(f"  alert ({kind}): {title}")
        _revenue(conn)
        _engagement(conn)
        _churn(conn, app)
        _campaigns(conn, home)
        _support(conn)
        _backups(conn)
    outbox = home / "outbox"
    print(f"\nLocal mode (no Slack, Resend, PagerDuty or S3 connection): messages are written to {outbox}")
    if (outbox / "slack.jsonl").exists():
        import json

        last = json.loads((outbox / "slack.jsonl").read_text().splitlines()[-1])
        print("  last Slack message:\n    " + last["text"].replace("\n", "\n    "))
    reviews = sorted((outbox / "review_emails").glob("*.eml"))
    if reviews:
        print(f"  the weekly review email (saas_weekly_review; text and HTML parts): {reviews[-1]}")


def _revenue(conn: Any) -> None:
    """The last six months of mrr_monthly, and the newest day of mrr_daily."""
    months = conn.execute("SELECT to_char(month, 'YYYY-MM'), mrr_cents, paying_customers, arpa_cents, new_cents, "
                          "expansion_cents, contraction_cents, churn_cents, reactivation_cents, net_new_cents, "
                          "logo_churn_rate, nrr, grr FROM saas_ops.mrr_monthly ORDER BY month DESC LIMIT 6"
                          ).fetchall()
    if not months:
        return
    usd = lambda cents: f"{cents / 100:,.0f}"  # noqa: E731
    pct = lambda rate: "" if rate is None else f"{rate:.1%}"  # noqa: E731
    print("\nRevenue (saas_ops.mrr_monthly; month-end MRR, the current month as of the newest day):")
    print(f"  {'month':<8}{'MRR':>12}{'paying':>8}{'ARPA':>8}{'new':>10}{'expansion':>11}{'contraction':>12}"
          f"{'churn':>10}{'reactiv.':>10}{'net new':>10}{'logo churn':>11}{'NRR':>8}{'GRR':>8}")
    for m, mrr, paying, arpa, new, exp, con, churn, react, net, logo, nrr, grr in reversed(months):
        print(f"  {m:<8}{usd(mrr):>12}{paying:>8,}{usd(arpa or 0):>8}{usd(new):>10}{usd(exp):>11}{usd(con):>12}"
              f"{usd(churn):>10}{usd(react):>10}{usd(net):>10}{pct(logo):>11}{pct(nrr):>8}{pct(grr):>8}")
    units = conn.execute("SELECT to_char(month, 'YYYY-MM'), new_customers, quick_ratio, ltv_cents, trials_ended, "
                         "trials_converted, trial_conversion_rate, cac_cents FROM saas_ops.mrr_monthly "
                         "ORDER BY month DESC LIMIT 6").fetchall()
    print(f"\n  {'month':<8}{'new cust.':>10}{'quick ratio':>12}{'LTV':>10}{'trials ended':>13}{'converted':>10}"
          f"{'rate':>7}{'CAC':>8}{'LTV:CAC':>9}")
    for m, new, quick, ltv, ended, converted, rate, cac in reversed(units):
        print(f"  {m:<8}{new:>10,}{'' if quick is None else f'{quick:.2f}':>12}{usd(ltv or 0):>10}{ended or 0:>13,}"
              f"{converted or 0:>10,}{pct(rate):>7}{'n/a' if cac is None else usd(cac):>8}"
              f"{f'{ltv / cac:.1f}' if ltv and cac else '':>9}")
    dims = conn.execute("SELECT dimension, value, mrr_cents, paying_customers, new_cents + reactivation_cents + "
                        "expansion_cents - contraction_cents - churn_cents FROM saas_ops.mrr_by_dimension_monthly "
                        "WHERE month = (SELECT max(month) FROM saas_ops.mrr_monthly) ORDER BY 1 DESC, 3 DESC"
                        ).fetchall()
    if dims:
        print(f"\n  MRR by dimension in {months[0][0]} (saas_ops.mrr_by_dimension_monthly; paying customers, net new):")
        for dimension in ("plan", "billing_interval", "segment", "country"):
            print(f"  {dimension:<17}" + "; ".join(f"{value} {usd(mrr)} ({paying:,}, {usd(net)})"
                                                  for d, value, mrr, paying, net in dims if d == dimension))
    day, mrr, arr, paying = conn.execute("SELECT day, mrr_cents, arr_cents, paying_customers FROM saas_ops.mrr_daily "
                                         "ORDER BY day DESC LIMIT 1").fetchone()
    print(f"  on {day}: MRR {usd(mrr)}, ARR {usd(arr)}, {paying:,} paying customers (reporting currency)")


def _engagement(conn: Any) -> None:
    """The last week of engagement_daily, a retention triangle of the last six cohorts, and feature adoption."""
    days = conn.execute("SELECT day, dau, wau, mau, stickiness, new_users, returning_users, resurrected_users, "
                        "dormant_users FROM saas_ops.engagement_daily ORDER BY day DESC LIMIT 7").fetchall()
    if not days:
        return
    print("\nEngagement (saas_ops.engagement_daily; users with an event on the day / in the 7 / 30 days to it):")
    print(f"  {'day':<12}{'DAU':>8}{'WAU':>8}{'MAU':>8}{'DAU/MAU':>9}{'new':>7}{'returning':>10}{'resurrected':>12}"
          f"{'dormant':>9}")
    for day, dau, wau, mau, stick, new, ret, res, dormant in reversed(days):
        print(f"  {day.isoformat():<12}{dau:>8,}{wau:>8,}{mau:>8,}{stick or 0:>9.1%}{new:>7,}{ret:>10,}{res:>12,}"
              f"{dormant:>9,}")
    cohorts = conn.execute("SELECT to_char(cohort_month, 'YYYY-MM'), months_since, cohort_size, retention_rate "
                           "FROM saas_ops.retention_cohorts WHERE cohort_month >= (SELECT max(cohort_month) "
                           "FROM saas_ops.retention_cohorts) - interval '5 months' ORDER BY 1, 2").fetchall()
    print("\nRetention by signup month (saas_ops.retention_cohorts; share of the cohort active in month N):")
    print(f"  {'cohort':<9}{'users':>7}" + "".join(f"{'M' + str(n):>7}" for n in range(6)))
    by_cohort: dict[str, list] = {}
    for month, since, size, rate in cohorts:
        by_cohort.setdefault(month, [size, {}])[1][since] = rate
    for month, (size, rates) in by_cohort.items():
        cells = "".join(f"{'' if rates.get(n) is None else f'{rates[n]:.0%}':>7}" for n in range(6))
        print(f"  {month:<9}{size:>7,}{cells}")
    adoption = conn.execute("SELECT day, feature, accounts_30d, adoption_rate FROM saas_ops.feature_adoption "
                            "WHERE day = (SELECT max(day) FROM saas_ops.feature_adoption) "
                            "ORDER BY accounts_30d DESC").fetchall()
    if adoption:
        print(f"\nFeature adoption on {adoption[0][0]} (saas_ops.feature_adoption; accounts using it in 30 days, "
              "share of active accounts):")
        for _, feature, accounts, rate in adoption:
            print(f"  {feature:<22}{accounts:>8,}{rate or 0:>8.1%}")


def _churn(conn: Any, app: str) -> None:
    """The champion churn model's evaluation, and the riskiest accounts of the newest scored day."""
    import psycopg

    from saas_ops.churn.model import driver_line

    model = conn.execute("SELECT model_version, metrics, decision FROM saas_ops.churn_models WHERE is_champion"
                         ).fetchone()
    if not model:
        return
    version, m, decision = model
    print(f"\nChurn model {version} (saas_ops.churn_models; {m['chosen'].replace('_', ' ')}, evaluated on later "
          f"weeks it never saw): AUC {m['auc']:.3f}, PR-AUC {m['pr_auc']:.3f}, top-decile lift "
          f"{m['lift_top_decile']:.1f}x, Brier {m['brier']:.4f}, calibration error {m['calibration_error']:.3f}, "
          f"base rate {m['base_rate']:.1%}")
    print(f"  on the same weeks: gradient boosting AUC {m['gradient_boosting']['auc']:.3f}, logistic baseline "
          f"{m['logistic']['auc']:.3f}, their blend {m['blend']['auc']:.3f}, days since last activity alone "
          f"{m['single_signal']['auc']:.3f}; the kind was chosen on earlier tuning weeks. {decision}")
    riskiest = conn.execute("SELECT day, customer_id, mrr_cents, churn_probability, health_score, top_drivers "
                            "FROM saas_ops.churn_scores WHERE day = (SELECT max(day) FROM saas_ops.churn_scores) "
                            "AND risk_band = 'high' ORDER BY mrr_cents * churn_probability DESC LIMIT 8").fetchall()
    if not riskiest:
        return
    bands = dict(conn.execute("SELECT risk_band, count(*) FROM saas_ops.churn_scores WHERE day = %s GROUP BY 1",
                              (riskiest[0][0],)).fetchall())
    with psycopg.connect(app) as source:
        names = dict(source.execute("SELECT customer_id, name FROM app.customers WHERE customer_id = ANY(%s)",
                                    ([r[1] for r in riskiest],)).fetchall())
    print(f"\nRiskiest accounts on {riskiest[0][0]} (saas_ops.churn_scores; {bands.get('high', 0):,} high, "
          f"{bands.get('medium', 0):,} medium, {bands.get('low', 0):,} low), by MRR at risk:")
    for _, customer_id, mrr, p, health, drivers in riskiest:
        print(f"  {names.get(customer_id, customer_id)[:24]:<25}{mrr / 100:>10,.0f}{p:>6.0%}  health {health:>3}  "
              + "; ".join(map(driver_line, drivers)))
    checked = conn.execute("SELECT day, realised_day, auc, psi, top_signals, alerts FROM saas_ops.churn_model_health "
                           "ORDER BY day DESC, checked_at DESC LIMIT 1").fetchone()
    if checked:
        day, realised_day, auc, psi, top_signals, problems = checked
        drifted = ", ".join(f"{s} {psi[s]:.3f}" for s in [*top_signals, "churn_probability"] if s in psi)
        realised = (f"scores of {realised_day}: realised AUC {auc:.3f}" if auc is not None else
                    f"no scores of {realised_day} to judge yet (realised figures start one horizon after the first)")
        print(f"\nModel health on {day} (saas_ops.churn_model_health): {realised}; PSI of the top signals and "
              f"the score: {drifted}; " + ("; ".join(a["text"] for a in problems) or "no problem"))


def _campaigns(conn: Any, home: Path) -> None:
    """The newest day's campaign emails by campaign and status, and three of the rendered emails."""
    rows = conn.execute("SELECT day, campaign, status, count(*) FROM saas_ops.email_sends WHERE day = (SELECT "
                        "max(day) FROM saas_ops.email_sends) GROUP BY 1, 2, 3 ORDER BY 2, 3").fetchall()
    if not rows:
        return
    day = rows[0][0]
    by_campaign: dict[str, dict[str, int]] = {}
    for _, campaign, status, n in rows:
        by_campaign.setdefault(campaign, {})[status] = n
    print(f"\nCampaign emails of {day} (saas_ops.email_sends; dry run: no Resend key, so rendered, not sent; "
          "holdout: the random tenth of each campaign kept out to measure its lift, never emailed):")
    for campaign, counts in by_campaign.items():
        print(f"  {campaign:<16}" + ", ".join(f"{n:,} {status}" for status, n in counts.items()))
    _campaign_results(conn)
    import email
    import email.policy

    folder = home / "outbox" / "emails" / day.isoformat()
    shown = [next(iter(sorted((folder / c).glob("*.eml"))), None) for c in ("trial_ending", "failed_payment",
                                                                             "inactive_30")]
    print(f"  rendered emails (.eml and .html) in {folder}; three of them:")
    for path in filter(None, shown):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",)).get_content().strip().splitlines()
        print(f"\n    From: {message['From']}\n    Subject: {message['Subject']}\n    List-Unsubscribe: "
              f"{message['List-Unsubscribe']}\n" + "\n".join(f"    | {line}" for line in body))


def _campaign_results(conn: Any) -> None:
    """Each campaign's effect against its holdout over the measured cohorts, as the page and Slack say it."""
    from saas_ops.campaigns import outcomes

    recent = outcomes.recent_effects(conn, "saas_ops", config.setting("EMAIL_COST_PER_1000"))
    if not recent:
        print("  campaign results: no cohort's window has closed yet")
        return
    since, newest, found = recent
    print(f"  campaign results, cohorts {since} .. {newest} (saas_ops.campaign_outcomes; each against its "
          "holdout; the demo models a true effect for some campaigns, see dev/demo_history.py):")
    for line in outcomes.summary_lines(found, config.setting("REPORTING_CURRENCY")):
        print(f"    {line}")


def _support(conn: Any) -> None:
    """The last week of support_daily, SLA attainment by priority over it, and the accounts with breaches."""
    days = conn.execute("SELECT day, opened, first_responded, resolved, backlog, first_response_p50_s, "
                        "resolution_p50_s, csat_mean, csat_response_rate FROM saas_ops.support_daily "
                        "WHERE priority = 'all' ORDER BY day DESC LIMIT 7").fetchall()
    if not days:
        return
    minutes = lambda s: "" if s is None else f"{s / 60:,.0f} min"  # noqa: E731
    print("\nSupport (saas_ops.support_daily, every priority; times are medians of the tickets answered/resolved):")
    print(f"  {'day':<12}{'opened':>7}{'answered':>9}{'resolved':>9}{'backlog':>8}{'1st response':>13}"
          f"{'resolution':>11}{'CSAT':>6}{'rated':>7}")
    for day, opened, answered, resolved, backlog, first, resolution, csat, rate in reversed(days):
        print(f"  {day!s:<12}{opened:>7}{answered:>9}{resolved:>9}{backlog:>8}{minutes(first):>13}"
              f"{minutes(resolution):>11}{'' if csat is None else f'{csat:.2f}':>6}"
              f"{'' if rate is None else f'{rate:.0%}':>7}")
    sla = conn.execute("SELECT priority, sum(due), sum(met) FROM saas_ops.support_sla_daily WHERE day > "
                       "(SELECT max(day) FROM saas_ops.support_daily) - 7 GROUP BY 1 "
                       "ORDER BY array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority)").fetchall()
    print("  first responses in time over those days (saas_ops.support_sla_daily, SLA_POLICIES): "
          + "; ".join(f"{p} {met:,} of {due:,} ({met / due:.0%})" for p, due, met in sla))
    accounts = conn.execute("SELECT customer_id, mrr_cents, open_tickets, breaches_30d FROM "
                            "saas_ops.support_account_daily WHERE day = (SELECT max(day) FROM "
                            "saas_ops.support_account_daily) AND breaches_30d > 0 ORDER BY mrr_cents DESC "
                            "LIMIT 5").fetchall()
    if accounts:
        print("  accounts with breaches in 30 days, by MRR (saas_ops.support_account_daily): "
              + "; ".join(f"{c} {m / 100:,.0f} MRR, {o} open, {b} breached" for c, m, o, b in accounts))


def _backups(conn: Any) -> None:
    """The newest dump and base backup, the newest drills with what they proved, and the restorable window."""
    from saas_ops import db
    from saas_ops.ops import report

    taken = conn.execute("SELECT backup_id, bytes, sha256, dump_seconds, "
                         "(SELECT count(*) FROM jsonb_object_keys(tables)), uri FROM saas_ops.backups "
                         "WHERE status = 'succeeded' AND kind = 'logical' ORDER BY started_at DESC LIMIT 1").fetchone()
    if taken:
        backup_id, size, sha256, seconds, tables, uri = taken
        print(f"\nBackup {backup_id} (saas_ops.backups, pg_dump): {size / 1e6:,.1f} MB in {seconds:.1f} s, {tables} "
              f"tables, sha256 {sha256[:16]}...\n  {uri}")
    base = conn.execute("SELECT backup_id, bytes, begin_wal, end_wal, finished_at - started_at, uri FROM "
                        "saas_ops.backups WHERE status = 'succeeded' AND kind = 'base' ORDER BY started_at DESC "
                        "LIMIT 1").fetchone()
    if base:
        backup_id, size, begin, end, took, uri = base
        print(f"Base backup {backup_id} (Barman): {(size or 0) / 1e6:,.1f} MB in {took.total_seconds():.1f} s, WAL "
              f"{begin} to {end}\n  {uri}")
    for status, checks, rto, rpo, drilled, method, target, lsn in conn.execute(
            "SELECT status, checks, rto_seconds, rpo_seconds, backup_id, method, target_time, target_lsn FROM "
            "saas_ops.restore_drills ORDER BY started_at DESC LIMIT 4").fetchall()[::-1]:
        passed = sum(c["ok"] for c in checks or [])
        if method == "physical":
            to = (f"{target:%Y-%m-%d %H:%M:%S} UTC" if target else
                  f"its manifest at WAL {lsn}" if lsn else "its end")
            proofs = ("the manifest's marks present, later ones absent, every table's rows and checksum as read "
                      "at that WAL position" if lsn and not target else
                      "marks committed by the moment present, later ones absent")
            print(f"Physical drill of {drilled} to {to}: {status.upper()}, {passed} of {len(checks or [])} checks "
                  f"({proofs}, RTO within target); RTO {rto or 0:.1f} s (restore + WAL replay), RPO "
                  f"{rpo or 0:.1f} s (the moment to the newest restored commit)")
        else:
            print(f"Logical drill of {drilled} (saas_ops.restore_drills): {status.upper()}, {passed} of "
                  f"{len(checks or [])} checks equal (every table's rows and checksum, sequences, indexes, "
                  f"constraints); restored in {rto or 0:.1f} s (RTO), backup {(rpo or 0) / 60:.0f} min old (RPO)")
    window = report.point_in_time(db.fetch_sql_file(conn, "report/point_in_time.sql", schema="saas_ops")[0])
    if window:
        print(f"Point-in-time recovery: RPO now {window['rpo_now'] or 0:.0f} s (worst in 7 days "
              f"{window['rpo_worst_7d'] or 0:.0f} s, target {config.setting('RPO_TARGET_MINUTES')} min); "
              f"restorable from {window['earliest']} to {window['latest']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    parser.add_argument("--serve", action="store_true", help="start Airflow on http://127.0.0.1:PORT afterwards")
    parser.add_argument("--port", type=int, default=8080, help="the API server's port with --serve")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    home = config.project_home() / ".local"
    home.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so `finally` below stops the embedded server
    app, warehouse, embedded = _databases(home, args.customers, reload=not args.serve)
    try:
        return _run(args, home, app, warehouse, t0, history=embedded)
    finally:
        if embedded:
            devdb.stop(home / "pg")
            print(f"Embedded PostgreSQL stopped (data kept in {home / 'pg'}).")


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _serve(env: dict[str, str], home: Path, port: int) -> int:
    from dev import airflow_services

    processes = airflow_services.start(env, port, home / "airflow" / "service_logs")
    try:
        airflow_services.wait_until_up(port, processes)
        password = airflow_services.admin_password(home / "airflow")
        print(f"Airflow is up on http://127.0.0.1:{port} (user admin, password {password}); logs in "
              f"{home / 'airflow' / 'service_logs'}. Ctrl-C stops it.")
        while all(proc.poll() is None for proc in processes.values()):
            time.sleep(1)
        print("An Airflow component stopped: " + ", ".join(n for n, p in processes.items() if p.poll() is not None))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        airflow_services.stop(processes)


def _campaign_history(env: dict[str, str], app: str, warehouse: str, logs: Path) -> tuple[str, bool, float]:
    """Past campaign nights and the emails' modelled effect (demo_history.py), then saas_engagement again from
    the first of those nights, for the responses that arrived late."""
    from dev import demo_history

    started = time.perf_counter()
    last_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    say = lambda line: print(f"  {'campaign history':<24} {line}")  # noqa: E731
    demo_history.plan_past_nights(last_day, say)
    demo_history.add_responses(app, warehouse, last_day, DEMO_SEED, say)
    say(f"done in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    rebuild = json.dumps({"rebuild_from": demo_history.first_night(last_day).isoformat()})
    later = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()  # a second run: its own logical date
    run = _airflow(env, "dags", "test", "saas_engagement", later, "--conf", rebuild,
                   log=logs / "saas_engagement_late_events.log")
    return f"saas_engagement {rebuild}", run.returncode == 0, time.perf_counter() - started


def _point_in_time(env: dict[str, str], logs: Path) -> tuple[str, bool, float]:
    """A bad statement and its undoing, as the runbook tells it: a mark, the moment, a DROP TABLE, then
    db_restore_drill from its form to that moment (the dropped table is back; the later mark is not)."""
    import psycopg

    from saas_ops import db
    from saas_ops.backups import marks, physical_drill

    started = time.perf_counter()
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.demo_bad_statement AS SELECT customer_id, name "
                     "FROM app.customers ORDER BY customer_id LIMIT 100")
    marks.write_mark("demo: before the moment")
    time.sleep(1.2)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
        conn.execute("DROP TABLE public.demo_bad_statement")  # the bad statement
    marks.write_mark("demo: after the moment")
    marks.close_segment()
    conf = json.dumps({"method": "physical", "target_time": moment.isoformat(), "keep_restored": True})
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).replace(microsecond=0).isoformat()
    run = _airflow(env, "dags", "test", "db_restore_drill", later, "--conf", conf,
                   log=logs / "db_restore_drill_point_in_time.log")
    ok = run.returncode == 0
    from saas_ops import config

    with db.warehouse() as wh:
        kept = wh.execute(f"SELECT kept_at FROM {config.schema_name('OUTPUT_SCHEMA')}.restore_drills "
                          "WHERE kept_at IS NOT NULL ORDER BY started_at DESC LIMIT 1").fetchone()
    if ok and kept:  # read the dropped rows back from the kept restore, then stop it as `make db-stop` would
        host, port = kept[0].split(":")
        source = psycopg.conninfo.conninfo_to_dict(db.conninfo(db.SOURCE_CONN_ID))
        with psycopg.connect(host=host, port=int(port), user=source.get("user"), dbname=source.get("dbname"),
                             connect_timeout=10) as restored:
            back = restored.execute("SELECT count(*) FROM public.demo_bad_statement").fetchone()[0]
        stopped = physical_drill.stop_kept(config.schema_name("OUTPUT_SCHEMA"))
        print(f"  {'':<24} {moment:%H:%M:%S.%f} UTC, before a DROP TABLE: the restore kept at {kept[0]} has the "
              f"dropped table's {back} rows; stopped: {', '.join(stopped)}")
        ok = back == 100
    return f"db_restore_drill {conf}", ok, time.perf_counter() - started


def _run(args: argparse.Namespace, home: Path, app: str, warehouse: str, t0: float, history: bool) -> int:
    env = airflow_env(home, app, warehouse)
    os.environ.update(env)  # the demo's own calls into the pack read the connections and Variables as the DAGs do
    out = _airflow(env, "db", "migrate")
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-3000:])
        return 1
    if history:  # the embedded server: continuous archiving on, as a user's would be after setup
        from saas_ops.backups import archiving

        archiving.setup()
        print(f"Continuous archiving: saas_db's WAL to {archiving.open_archive().where} (Barman)")
    if args.serve:
        return _serve(env, home, args.port)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()  # not midnight: see the docstring
    present = {p.stem for p in (config.project_home() / "dags").glob("*.py")}
    results = []
    logs = home / "demo_logs"
    logs.mkdir(exist_ok=True)
    for dag_id in [d for d in DAG_ORDER if d in present]:
        started = time.perf_counter()
        run = _airflow(env, "dags", "test", dag_id, now, log=logs / f"{dag_id}.log")
        results.append((dag_id, run.returncode == 0, time.perf_counter() - started))
        print(f"  {dag_id:<24} {'ok' if run.returncode == 0 else 'FAILED'} in {results[-1][2]:.0f}s "
              f"(log: {logs / (dag_id + '.log')})")
        if dag_id == "saas_engagement" and history:
            results.append(_campaign_history(env, app, warehouse, logs))
            print(f"  {results[-1][0]} {'ok' if results[-1][1] else 'FAILED'} in {results[-1][2]:.0f}s "
                  f"(log: {logs / 'saas_engagement_late_events.log'})")
        if dag_id == "db_restore_drill" and history:
            results.append(_point_in_time(env, logs))
            print(f"  {results[-1][0]} {'ok' if results[-1][1] else 'FAILED'} in {results[-1][2]:.0f}s "
                  f"(log: {logs / 'db_restore_drill_point_in_time.log'})")
    _summary(app, warehouse, home)
    from saas_ops.ops import report

    print(f"\nThe SaaS Ops report (the page the Airflow UI shows under SaaS Ops): "
          f"{report.write_report(home / 'report' / 'saas_ops_report.html')}")
    print(f"\nDemo finished in {time.perf_counter() - t0:.0f}s. Start the Airflow UI with: make airflow")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
