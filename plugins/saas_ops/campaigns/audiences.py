"""Who gets which email: the audiences of every switched-on campaign (include/sql/campaigns/audience_*.sql)
turned into `email_sends` rows for the day (30_queue.sql: recipient, suppression, frequency cap, priority,
per-run cap), each keyed `campaign:user_id:period` so a rerun adds nothing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

DAG_ID = "reengagement_campaigns"
# Every campaign, in the default priority order (when several apply to one user, the first one wins): the SQL
# of its audience and the parameters that campaign adds to it.
AUDIENCES: dict[str, tuple[str, dict[str, Any]]] = {
    "failed_payment": ("campaigns/audience_failed_payment.sql", {}),
    "trial_ending": ("campaigns/audience_trial_ending.sql", {}),
    "high_risk": ("campaigns/audience_high_risk.sql", {}),
    "win_back": ("campaigns/audience_win_back.sql", {}),
    "inactive_90": ("campaigns/audience_inactive.sql", {"days": 90}),
    "inactive_60": ("campaigns/audience_inactive.sql", {"days": 60}),
    "inactive_30": ("campaigns/audience_inactive.sql", {"days": 30}),
    "low_adoption": ("campaigns/audience_low_adoption.sql", {}),
}
CAMPAIGNS = tuple(AUDIENCES)
# What the audiences read from saas_db: (extract, the temp table it fills, the source table whose optional
# columns it reads).
SOURCE_EXTRACTS = (("campaigns/extract_account_owners.sql", "camp_customers (customer_id, name, created_at, "
                    "account_owner_name)", "customers"),
                   ("campaigns/extract_trials.sql", "camp_trials", "subscription_periods"),
                   ("campaigns/extract_dunning.sql", "camp_dunning", "payment_attempts"))
QUARANTINED = ("customers", "users", "invoices", "payment_attempts")  # keyed tables the extracts read


def parse_variants(text: str) -> dict[str, list[tuple[str, float]]]:
    """CAMPAIGN_VARIANTS, e.g. "inactive_30:short=0.5, low_adoption:checklist=0.3, low_adoption:video=0.3": per
    campaign, its variants other than `default` with their shares of the treatment arm (the rest is `default`).
    A variant's templates are <template>.<variant>.txt and .html beside the campaign's (render.template_name)."""
    import re

    from saas_ops import config
    from saas_ops.campaigns.render import template_name

    variants: dict[str, list[tuple[str, float]]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = re.fullmatch(r"([a-z0-9_]+):([a-z0-9_]{1,40})=([0-9.]+)", item)
        if not match or match[1] not in AUDIENCES or match[2] == "default" or not 0 < float(match[3]) <= 1:
            raise ValueError(f"CAMPAIGN_VARIANTS: {item!r} is not campaign:variant=share (a known campaign, a "
                             "variant name of a-z, 0-9 and _, other than default, and a share in (0, 1])")
        campaign, variant, share = match[1], match[2], float(match[3])
        folder = config.include_dir() / "templates" / "email"
        missing = [f"{template_name(campaign, variant)}.{ext}" for ext in ("txt", "html")
                   if not (folder / f"{template_name(campaign, variant)}.{ext}").is_file()]
        if missing:
            raise ValueError(f"CAMPAIGN_VARIANTS: {campaign}:{variant} has no template {', '.join(missing)} in "
                             f"{folder}")
        variants.setdefault(campaign, []).append((variant, share))
    for campaign, shares in variants.items():
        if sum(share for _, share in shares) > 1 + 1e-9:
            raise ValueError(f"CAMPAIGN_VARIANTS: the shares of {campaign}'s variants add up to more than 1")
    return variants


def settings_from_config() -> tuple[list[str], dict[str, Any]]:
    """The switched-on campaigns (CAMPAIGNS, by priority) and the settings plan() reads, from the Variables."""
    from saas_ops import config

    campaigns = [c.strip() for c in config.setting("CAMPAIGNS").split(",") if c.strip()]
    return campaigns, {"core_features": config.core_features(),
                       "min_features": config.setting("LOW_ADOPTION_MIN_FEATURES"),
                       "suspend_days": config.setting("DUNNING_SUSPEND_DAYS"),
                       "cap_days": config.setting("EMAIL_FREQUENCY_CAP_DAYS"),
                       "run_cap": config.setting("EMAIL_MAX_PER_RUN"),
                       "holdout_share": config.setting("CAMPAIGN_HOLDOUT_SHARE"),
                       "salt": config.setting("CAMPAIGN_ASSIGNMENT_SALT"),
                       "variants": parse_variants(config.setting("CAMPAIGN_VARIANTS"))}


def plan(day: dt.date, *, run_id: str, schema: str, source_schema: str, campaigns: list[str], settings: dict[str, Any]
         ) -> dict[str, Any]:
    """Queues the day's emails (see the module docstring). Returns per campaign the candidates found and
    the rows now in email_sends for the day, by status."""
    from saas_ops import contract, db, incremental, quality
    from saas_ops.campaigns import recipients

    unknown = sorted(set(campaigns) - set(CAMPAIGNS))
    if unknown:
        raise ValueError(f"CAMPAIGNS names unknown campaign(s) {', '.join(unknown)}; known: {', '.join(CAMPAIGNS)}")
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    params = {"day": day, "day_end": day_end, "send_day": day + dt.timedelta(days=1), "run_id": run_id,
              "features": settings["core_features"], "min_features": settings["min_features"],
              "suspend_days": settings["suspend_days"], "cap_days": settings["cap_days"],
              "run_cap": settings["run_cap"], "priority": list(campaigns),
              "holdout_share": settings["holdout_share"], "salt": settings["salt"],
              **_variant_params(settings["variants"])}
    if not 0 <= settings["holdout_share"] < 1:
        raise ValueError(f"CAMPAIGN_HOLDOUT_SHARE={settings['holdout_share']} must be at least 0 and below 1")
    notes: list[str] = []
    with db.source() as src, db.warehouse() as wh:
        incremental.require_metrics_through(wh, schema, day, "campaigns")
        columns = contract.source_columns(src, source_schema)
        params.update(quality.quarantine(src, wh, QUARANTINED, source_schema=source_schema, output_schema=schema,
                                         run_id=run_id, dag_id=DAG_ID))
        db.run_sql_file(wh, "campaigns/10_raw_tables.sql")
        for query_file, target, table in SOURCE_EXTRACTS:
            db.copy_query_rows(src, wh, query_file, target, params, schema=source_schema, **columns[table])
        db.run_sql_file(wh, "campaigns/20_live_accounts.sql", params, schema=schema)

        found: dict[str, int] = {}
        for campaign in campaigns:
            if campaign == "high_risk" and not _scored(wh, schema, day):
                notes.append(f"high_risk: no churn scores for {day} (churn_score has not scored it: no champion "
                             "model yet?), so no check-ins today")
                continue
            if campaign == "high_risk":
                db.run_sql(wh, db.compose("CREATE TEMP TABLE camp_entered_high ON COMMIT DROP AS\n"
                                          + db.read_sql("churn/entered_high_band.sql"), schema=schema), {"day": day})
            audience_file, audience_params = AUDIENCES[campaign]
            insert = db.compose("INSERT INTO camp_candidates (campaign, customer_id, user_id, period_key, facts)\n"
                                "SELECT %(campaign)s, a.* FROM (\n" + db.read_sql(audience_file) + "\n) a",
                                schema=schema)
            found[campaign] = db.run_sql(wh, insert, {**params, "campaign": campaign, "days": None,
                                                      **audience_params})

        user_ids, customer_ids = db.fetch_sql_file(wh, "campaigns/candidate_users.sql")[0]
        db.copy_query_rows(src, wh, "campaigns/extract_users.sql", "camp_users (user_id, customer_id, email, name, "
                           "created_at, email_opt_out)", {**params, "user_ids": user_ids,
                                                          "customer_ids": customer_ids},
                           schema=source_schema, **columns["users"])
        recipients.check_recipients(wh, schema)
        wh.execute("ANALYZE camp_users; ANALYZE camp_candidates")
        db.run_sql_file(wh, "campaigns/30_queue.sql", params, schema=schema)
        rows = db.fetch_sql_file(wh, "campaigns/queued_by_status.sql", {"day": day}, schema=schema)
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=DAG_ID)
    by_campaign: dict[str, dict[str, int]] = {}
    for campaign, status, n in rows:
        by_campaign.setdefault(campaign, {})[status] = n
    return {"day": day.isoformat(), "candidates": found, "rows": by_campaign, "notes": notes, "left_out": left_out}


def _variant_params(variants: dict[str, list[tuple[str, float]]]) -> dict[str, list[Any]]:
    """The variants as the arrays 30_queue.sql reads: campaign, name, and the upper end of its slice of [0, 1)."""
    rows = []
    for campaign, shares in variants.items():
        upper = 0.0
        for variant, share in shares:
            upper += share
            rows.append((campaign, variant, upper))
    return {"variant_campaigns": [r[0] for r in rows], "variant_names": [r[1] for r in rows],
            "variant_upper": [r[2] for r in rows]}


def _scored(wh: psycopg.Connection, schema: str, day: dt.date) -> bool:
    from saas_ops.db import compose

    return wh.execute(compose("SELECT EXISTS (SELECT 1 FROM {schema}.churn_scores WHERE day = %s)", schema=schema),
                      (day,)).fetchone()[0]
