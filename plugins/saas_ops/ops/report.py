"""The SaaS Ops view: every figure the team looks at, read from warehouse_db in one place (`figures`), drawn
as one HTML page (`render_html`) that the Airflow UI shows (web.py) and `make demo` writes as a static file.

Charts are inline SVG drawn here on the server: no JavaScript and no CDN, so the page works in an Airflow UI
without internet and as a file attached to an email. Each section with no data says which DAG to run first.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from saas_ops.ops import watchdog

PALETTE = ("#3b5bdb", "#2b8a3e", "#e8590c", "#ae3ec9", "#1098ad")


# --------------------------------------------------------------------------------------- figures


def figures(conn: psycopg.Connection, schema: str, *, currency: str, limits: watchdog.Limits,
            month: str | None = None, email_cost_per_1000: float = 0.40) -> dict[str, Any]:
    """Everything the view shows, as plain JSON-able values (money in cents). `month` (YYYY-MM) picks the
    waterfall's month; the newest by default."""
    from saas_ops.churn.model import driver_line
    from saas_ops.db import fetch_sql_file

    def q(sql_file: str, **params: Any) -> list[tuple]:
        return fetch_sql_file(conn, sql_file, params, schema=schema)

    month_keys = ("month", "mrr", "arr", "paying", "arpa", "new", "expansion", "contraction", "churn", "reactivation",
                  "net_new", "logo_churn_rate", "gross_mrr_churn_rate", "nrr", "grr", "new_customers", "quick_ratio",
                  "ltv", "trials_ended", "trials_converted", "trial_conversion_rate", "cac")
    months = [dict(zip(month_keys, row, strict=True))
              for row in q("report/mrr_monthly.sql")]
    revenue = None
    if months:
        chosen = next((m for m in months if m["month"] == month), months[-1])
        before = next((m for m in reversed(months) if m["month"] < chosen["month"]), None)
        dimensions = [dict(zip(("dimension", "value", "mrr", "paying", "net_new"), row, strict=True))
                      for row in q("report/mrr_by_dimension.sql", month=chosen["month"] + "-01")]
        revenue = {"months": months, "selected": chosen["month"], "start_mrr": before["mrr"] if before else 0,
                   "dimensions": dimensions}

    days = [dict(zip(("day", "dau", "wau", "mau", "stickiness"), (d.isoformat(), *rest), strict=True))
            for d, *rest in q("report/engagement_daily.sql")]
    engagement = None
    if days:
        cohorts: dict[str, dict[str, Any]] = {}
        for cohort, _, size, rate in q("report/retention_cohorts.sql"):
            cohorts.setdefault(cohort, {"cohort": cohort, "size": size, "rates": []})["rates"].append(rate)
        adoption = [{"feature": f, "accounts": n, "rate": r} for f, n, r in q("report/feature_adoption.sql")]
        engagement = {"days": days, "cohorts": list(cohorts.values()), "adoption": adoption}

    churn = None
    model = q("report/champion_model.sql")
    if model:
        version, m, scored = model[0]
        churn = {"model": {"version": version, "chosen": m.get("chosen"), "auc": m.get("auc"),
                           "pr_auc": m.get("pr_auc"), "lift_top_decile": m.get("lift_top_decile"),
                           "brier": m.get("brier"), "base_rate": m.get("base_rate")},
                 "day": scored and scored.isoformat(), "bands": dict(q("report/churn_bands.sql", day=scored)),
                 "riskiest": [{"customer_id": c, "mrr": mrr, "at_risk": round(mrr * p), "probability": p,
                               "health": h, "drivers": [driver_line(d) for d in drivers]}
                              for c, mrr, p, h, drivers in q("report/riskiest_accounts.sql", day=scored)],
                 "health": model_health(q("report/churn_model_health.sql"), m.get("importance_change"))}

    campaign_rows = q("report/email_sends.sql")
    campaigns = None
    if campaign_rows:
        per_day: dict[tuple[str, str], dict[str, int]] = {}
        totals: dict[str, dict[str, int]] = {}
        for day, campaign, status, n in campaign_rows:
            per_day.setdefault((day.isoformat(), campaign), {})[status] = n
            totals.setdefault(campaign, {}).setdefault(status, 0)
            totals[campaign][status] += n
        campaigns = {"days": [{"day": d, "campaign": c, **counts} for (d, c), counts in per_day.items()],
                     "totals": totals, "last_day": campaign_rows[-1][0].isoformat()}
    from saas_ops.campaigns import outcomes

    campaign_results = outcomes.results(conn, schema, email_cost_per_1000)
    if campaign_results:
        campaigns = {**(campaigns or {"days": [], "totals": {}, "last_day": None}), "results": campaign_results}

    support_days = q("report/support_daily.sql")
    support = None
    if support_days:
        keys = ("day", "opened", "resolved", "backlog", "first_response_p50_s", "csat_mean", "csat_responses",
                "attainment")
        newest = support_days[-1][0]
        last = lambda days: q("support/period_summary.sql",  # noqa: E731
                              first_day=newest - dt.timedelta(days=days - 1), last_day=newest)[0]
        *_, due_7d, met_7d = last(7)
        _, _, resolved_30d, csat_30d, ratings_30d, _, _ = last(30)
        support = {"days": [dict(zip(keys, (d.isoformat(), *rest), strict=True)) for d, *rest in support_days],
                   "attainment_7d": float(met_7d / due_7d) if due_7d else None, "csat_30d": csat_30d,
                   "csat_response_rate_30d": float(ratings_30d / resolved_30d) if resolved_30d else None,
                   "breaches": [dict(zip(("customer_id", "mrr", "open_tickets", "breaches_30d", "last_csat"), row,
                                         strict=True)) for row in q("report/support_breaches.sql")]}

    backups_rows = q("report/backups.sql")
    drills_rows = q("report/restore_drills.sql")
    backups = None
    if backups_rows or drills_rows:
        from saas_ops.ops import watchdog

        last_passed = drills_rows[0][-1] if drills_rows else None
        backups = {
            "backups": [{"backup_id": b, "started_at": s.isoformat(), "bytes": n, "status": st, "seconds": sec}
                        for b, s, n, st, sec in backups_rows],
            "drills": [{"drill_id": d, "backup_id": b, "started_at": s.isoformat(), "status": st, "rto_seconds": rto,
                        "failed_checks": [c["name"] for c in checks or [] if not c.get("ok")]}
                       for d, b, s, st, rto, checks, _ in drills_rows],
            "last_good_backup": next((s.isoformat() for _, s, _, st, _ in reversed(backups_rows)
                                      if st == "succeeded"), None),
            "last_passed_drill": last_passed and last_passed.isoformat(),
            "point_in_time": point_in_time(q("report/point_in_time.sql")[0]),
            # What ops_watchdog alerts on (backup too old, small or shrunk; no recent passed drill), same rules.
            "problems": [p.message for p in watchdog.find_problems(conn, schema, dt.datetime.now(dt.UTC), limits)
                         if p.key.startswith(("backup:", "drill:"))],
        }
    return {"generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "currency": currency,
            "revenue": revenue, "engagement": engagement, "churn": churn, "campaigns": campaigns, "support": support,
            "backups": backups}


def point_in_time(row: tuple) -> dict[str, Any] | None:
    """The RPO now and its worst in 7 days, the window a restore can reach, the last physical drills."""
    rpo_now, rpo_worst, earliest, latest, drills = row
    if rpo_now is None and earliest is None and not drills:
        return None
    return {"rpo_now": rpo_now, "rpo_worst_7d": rpo_worst, "earliest": earliest and earliest.isoformat(),
            "latest": latest and latest.isoformat(), "drills": drills}


def model_health(rows: list[tuple], importance_change: dict[str, Any] | None) -> dict[str, Any] | None:
    """The churn model's health from churn_model_health rows (oldest first): realised AUC by the day it judged,
    the newest calibration and drift, and the problems of the newest check."""
    from saas_ops.churn.drift import SCORE

    if not rows:
        return None
    keys = ("day", "model_version", "realised_day", "auc", "auc_7d", "auc_30d", "lift_top_decile",
            "calibration_error", "calibration", "psi", "top_signals", "alerts")
    checks = [dict(zip(keys, row, strict=True)) for row in rows]
    latest = checks[-1]
    calibrated = next((c for c in reversed(checks) if c["calibration"]), None)
    return {
        "realised": [{"day": c["realised_day"].isoformat(), "auc": c["auc"], "auc_7d": c["auc_7d"],
                      "auc_30d": c["auc_30d"], "lift_top_decile": c["lift_top_decile"],
                      "calibration_error": c["calibration_error"]} for c in checks],
        "day": latest["day"].isoformat(), "model_version": latest["model_version"],
        "calibration": calibrated and {"day": calibrated["realised_day"].isoformat(),
                                       "bins": calibrated["calibration"]},
        "drift": [{"signal": s, "psi": v, "top": s in latest["top_signals"] or s == SCORE}
                  for s, v in sorted(latest["psi"].items(), key=lambda kv: -kv[1])],
        "problems": [a["text"] for a in latest["alerts"]],
        "importance_change": importance_change,
    }


def read_figures(month: str | None = None) -> dict[str, Any]:
    """figures() from the warehouse_db connection and the settings."""
    from saas_ops import config, db
    from saas_ops.ops import watchdog

    with db.warehouse() as wh:
        return figures(wh, config.schema_name("OUTPUT_SCHEMA"), currency=config.setting("REPORTING_CURRENCY"),
                       email_cost_per_1000=config.setting("EMAIL_COST_PER_1000"),
                       limits=watchdog.limits_from_settings(), month=month)


# --------------------------------------------------------------------------------------- charts (SVG)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def line_chart(labels: list[str], series: dict[str, list[float | None]], *, fmt: Any = "{:,.0f}".format,
               width: int = 720, height: int = 220) -> str:
    """Lines over shared x labels, from 0 to the largest value, with the first, middle and last label."""
    left, right, top, bottom = 64, 12, 12, 40
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = max(values, default=0) or 1
    n = max(len(labels) - 1, 1)
    x = lambda i: left + (width - left - right) * i / n  # noqa: E731
    y = lambda v: top + (height - top - bottom) * (1 - v / top_value)  # noqa: E731
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" class="chart">',
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="#cbd2d9"/>',
             f'<text x="{left - 6}" y="{y(top_value) + 4:.1f}" text-anchor="end">{_esc(fmt(top_value))}</text>',
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>']
    last = len(labels) - 1
    for i in sorted({0, last // 2, last}):
        if 0 <= i < len(labels):
            anchor = "start" if i == 0 else "end" if i == last else "middle"  # keep the ends inside the chart
            parts.append(f'<text x="{x(i):.1f}" y="{height - 22}" text-anchor="{anchor}">{_esc(labels[i])}</text>')
    for k, (name, vs) in enumerate(series.items()):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None)
        color = PALETTE[k % len(PALETTE)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        parts.append(f'<rect x="{left + 110 * k}" y="{height - 12}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + 14 + 110 * k}" y="{height - 3}">{_esc(name)}</text>')
    return "".join(parts) + "</svg>"


def lift_chart(rows: list[dict[str, Any]], *, width: int = 720) -> str:
    """Each campaign's lift over its holdout as a bar from zero, with whiskers at its 95% interval (points)."""
    measured = [r for r in rows if r["lift"]]
    left, right, row_height = 180, 60, 26
    height = row_height * len(measured) + 24
    reach = max([abs(v) for r in measured for v in r["lift"]] + [0.01])
    x = lambda v: left + (width - left - right) * (0.5 + v / reach / 2)  # noqa: E731
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" class="chart lift">',
             f'<line x1="{x(0):.1f}" y1="0" x2="{x(0):.1f}" y2="{height - 18}" stroke="#9aa5b1"/>',
             f'<text x="{x(-reach):.1f}" y="{height - 4}">{-100 * reach:+.1f} pts</text>',
             f'<text x="{x(reach):.1f}" y="{height - 4}" text-anchor="end">{100 * reach:+.1f} pts</text>']
    for i, r in enumerate(measured):
        lift, low, high = r["lift"]
        y = 6 + i * row_height
        color = PALETTE[1] if low > 0 else "#c92a2a" if high < 0 else "#9aa5b1"
        parts += [f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{_esc(r["campaign"])}/{_esc(r["variant"])}'
                  "</text>",
                  f'<rect x="{min(x(0), x(lift)):.1f}" y="{y + 3}" width="{abs(x(lift) - x(0)):.1f}" height="12" '
                  f'fill="{color}"/>',
                  f'<line x1="{x(low):.1f}" y1="{y + 9}" x2="{x(high):.1f}" y2="{y + 9}" stroke="#1f2933"/>',
                  f'<line x1="{x(low):.1f}" y1="{y + 4}" x2="{x(low):.1f}" y2="{y + 14}" stroke="#1f2933"/>',
                  f'<line x1="{x(high):.1f}" y1="{y + 4}" x2="{x(high):.1f}" y2="{y + 14}" stroke="#1f2933"/>',
                  f'<text x="{width - right + 6}" y="{y + 13}">{100 * lift:+.1f}</text>']
    return "".join(parts) + "</svg>"


def waterfall(steps: list[tuple[str, int]], *, fmt: Any, width: int = 720, height: int = 240) -> str:
    """Start, the signed movements, end: each movement a bar floating from the running total."""
    left, top, bottom = 12, 24, 40
    running, bars = 0, []
    for i, (name, value) in enumerate(steps):
        total = i in (0, len(steps) - 1)
        low, high = (0, value) if total else sorted((running, running + value))
        bars.append((name, value, low, high, total))
        running = value if total else running + value
    top_value = max(high for *_, high, _ in bars) or 1
    slot = (width - 2 * left) / len(bars)
    y = lambda v: top + (height - top - bottom) * (1 - v / top_value)  # noqa: E731
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" class="chart">']
    for i, (name, value, low, high, total) in enumerate(bars):
        color = "#52606d" if total else ("#2b8a3e" if value >= 0 else "#c92a2a")
        x0 = left + slot * i + slot * 0.15
        parts.append(f'<rect x="{x0:.1f}" y="{y(high):.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{max(y(low) - y(high), 1):.1f}" fill="{color}"/>')
        label = fmt(value) if total else ("+" if value >= 0 else "−") + fmt(abs(value))
        parts.append(f'<text x="{x0 + slot * 0.35:.1f}" y="{y(high) - 6:.1f}" text-anchor="middle">'
                     f'{_esc(label)}</text><text x="{x0 + slot * 0.35:.1f}" y="{height - 18}" '
                     f'text-anchor="middle">{_esc(name)}</text>')
    return "".join(parts) + "</svg>"


# --------------------------------------------------------------------------------------- page


def money(cents: int | None, currency: str) -> str:
    return "" if cents is None else f"{cents / 100:,.0f} {currency}"


def pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"


def render_html(data: dict[str, Any], *, standalone: bool = False) -> str:
    """The page (`standalone`: the static report file, with no links back into Airflow)."""
    import jinja2
    from markupsafe import Markup

    from saas_ops import config

    currency = data["currency"]
    charts: dict[str, Markup] = {}
    revenue, engagement, backups = data["revenue"], data["engagement"], data["backups"]
    if revenue:
        months = revenue["months"]
        charts["mrr"] = Markup(line_chart([m["month"] for m in months], {"MRR": [m["mrr"] / 100 for m in months]},
                                          fmt=lambda v: f"{v:,.0f}"))
        m = next(m for m in months if m["month"] == revenue["selected"])
        charts["waterfall"] = Markup(waterfall(
            [("start", revenue["start_mrr"]), ("new", m["new"]), ("reactivation", m["reactivation"]),
             ("expansion", m["expansion"]), ("contraction", -m["contraction"]), ("churn", -m["churn"]),
             ("end", m["mrr"])], fmt=lambda c: f"{c / 100:,.0f}"))
    if engagement:
        days = engagement["days"]
        labels = [d["day"] for d in days]
        charts["active"] = Markup(line_chart(labels, {k.upper(): [d[k] for d in days] for k in ("dau", "wau", "mau")}))
        charts["stickiness"] = Markup(line_chart(labels, {"DAU/MAU": [d["stickiness"] for d in days]},
                                                 fmt=lambda v: f"{v:.0%}", height=160))
    support = data.get("support")
    if support:
        days = support["days"]
        labels = [d["day"] for d in days]
        charts["backlog"] = Markup(line_chart(labels, {"backlog": [d["backlog"] for d in days],
                                                       "opened": [d["opened"] for d in days]}, height=180))
        priorities = [p for p in ("urgent", "high", "normal", "low") if any(p in (d["attainment"] or {}) for d in days)]
        if priorities:
            charts["attainment"] = Markup(line_chart(
                labels, {p: [(d["attainment"] or {}).get(p) for d in days] for p in priorities},
                fmt=lambda v: f"{v:.0%}", height=180))
    health = data["churn"] and data["churn"].get("health")
    if health and any(r["auc"] is not None for r in health["realised"]):
        realised = health["realised"]
        charts["realised_auc"] = Markup(line_chart(
            [r["day"] for r in realised], {k: [r[key] for r in realised] for k, key in
                                           (("daily", "auc"), ("7-day", "auc_7d"), ("30-day", "auc_30d"))},
            fmt=lambda v: f"{v:.2f}", height=180))
    results = data["campaigns"] and data["campaigns"].get("results")
    if results and any(r["lift"] for r in results["rows"]):
        charts["lift"] = Markup(lift_chart(results["rows"]))
    if backups and backups["backups"]:
        good = [b for b in backups["backups"] if b["status"] == "succeeded"]
        charts["backup_size"] = Markup(line_chart([b["started_at"][:10] for b in good],
                                                  {"MB": [b["bytes"] / 1e6 for b in good]},
                                                  fmt=lambda v: f"{v:,.1f}", height=160))
    if backups and backups["drills"]:
        drills = list(reversed(backups["drills"]))
        charts["rto"] = Markup(line_chart([d["started_at"][:10] for d in drills],
                                          {"RTO s": [d["rto_seconds"] for d in drills]},
                                          fmt=lambda v: f"{v:,.1f}", height=160))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(config.include_dir() / "templates" / "report")),
                             undefined=jinja2.StrictUndefined, autoescape=True)
    env.filters.update(money=lambda c: money(c, currency), pct=pct)
    return env.get_template("saas_ops.html").render(data=data, charts=charts, standalone=standalone)


def write_report(path: Any) -> str:
    """Writes the page as a static HTML file (`make demo` does); returns its path."""
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(read_figures(), standalone=True))
    return str(target)
