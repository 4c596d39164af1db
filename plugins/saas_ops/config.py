"""Settings: every non-secret knob of the pack, its default, and how it is read.

A setting is an Airflow Variable (UI, CLI, or `AIRFLOW_VAR_<NAME>` in the environment) falling back to the
default below. Read settings inside tasks only, never at DAG parse time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# name -> (default, what it means). Types follow the default's type.
SETTINGS: dict[str, tuple[Any, str]] = {
    "SOURCE_SCHEMA": ("app", "schema of the source tables in saas_db"),
    "OUTPUT_SCHEMA": ("saas_ops", "schema the pack writes in warehouse_db"),
    "REPORTING_CURRENCY": ("USD", "currency of every *_cents output"),
    "ALERT_EMAILS": ("", "comma-separated addresses that receive failure emails; empty: no email"),
    "ALERT_EMAIL_FROM": ("SaaS Ops <alerts@saas-ops.invalid>", "sender of alert emails"),
    "LOCAL_DIR": ("", "folder of the local mode (outbox, local backups); empty: <project>/.local"),
    "WATCHDOG_MAX_LAG_HOURS": (36, "an output whose watermark is older than this is stale (daily DAGs)"),
    "BACKUP_MAX_AGE_HOURS": (30, "the newest good backup must be younger than this (Barman's last_backup_maximum_age)"),
    "BACKUP_STALE_HOURS": (6, "a backup still `running` after this many hours was killed: the next db_backup or "
                              "ops_watchdog marks it failed and removes its partial files"),
    "BACKUP_MIN_BYTES": (1024, "a backup smaller than this is suspicious (Barman's minimum_size)"),
    "BACKUP_MAX_SHRINK": (0.5, "a good backup smaller than this fraction of the previous good one is an alert"),
    "DRILL_MAX_AGE_DAYS": (8, "the newest passed restore drill must be younger than this"),
    "BACKUP_FORMAT": ("custom", "pg_dump format: custom (streamed while written) or directory (parallel, BACKUP_JOBS)"),
    "BACKUP_COMPRESSION": ("1", "pg_dump --compress: -Z1 dumps faster than the default level for nearly the same "
                                "size (README, Backups)"),
    "BACKUP_JOBS": (2, "parallel jobs of a directory-format pg_dump and of pg_restore in a drill"),
    "BACKUP_KEEP_DAILY": (7, "retention: keep the newest backup of each of this many latest days"),
    "BACKUP_KEEP_WEEKLY": (4, "retention: ... of each of this many latest ISO weeks"),
    "BACKUP_KEEP_MONTHLY": (12, "retention: ... of each of this many latest months"),
    "RPO_TARGET_MINUTES": (60, "at most this much of saas_db's writes may be lost: backup_archive_watch alerts (P1; "
                               "P0 past twice this) when the newest archived WAL is older"),
    "RTO_TARGET_MINUTES": (240, "a restore must be ready within this: a drill whose RTO is longer alerts"),
    "PITR_WINDOW_DAYS": (30, "restores to any moment of this many latest days: the base backups and WAL they need "
                             "are kept"),
    "ARCHIVE_TIMEOUT_SECONDS": (60, "archive_timeout the setup sets: a quiet database still closes and archives a "
                                    "WAL segment this often when anything was written"),
    "WAL_RETAINED_MAX_MB": (4096, "alert when the source keeps more than this much WAL for a stuck archive or a "
                                  "replication slot (before it fills the disk)"),
    "BASE_BACKUP_EVERY_DAYS": (1, "db_backup takes a Barman base backup when the newest good one is older than this "
                                  "many days (0: never; the archive alone then restores nothing new)"),
    "BASE_BACKUP_FULL_EVERY_DAYS": (7, "a full base backup this often; the ones between are block-level incremental "
                                       "(local folder, PostgreSQL 17+ with summarize_wal; otherwise all are full)"),
    "PG_BIN_DIR": ("", "folder of pg_dump/pg_restore matching the server's major version; empty: searched for"),
    "GROSS_MARGIN": (1.0, "the share of revenue kept after the cost of serving it: LTV = ARPA x this / logo churn"),
    "TRIAL_CONVERSION_DAYS": (7, "a trial converted when its customer pays within this many days of its end"),
    "MRR_DROP_ALERT": (0.03, "revenue alert when MRR falls more than this fraction from one day to the next"),
    "CHURN_SPIKE_FACTOR": (3.0, "revenue alert when a day's churned MRR exceeds this many times its 28-day mean"),
    "CORE_FEATURES": ("dashboard_view,report_create,integration_connect,alert_create,export_csv,invite_user,"
                      "api_call,comment_add", "comma-separated event names that count as core features"),
    "ENGAGEMENT_LATE_DAYS": (3, "every saas_engagement run reads again the events of this many days before the "
                                "day it closes, so events synced late by up to that many days are counted"),
    "DAU_DROP_ALERT": (0.6, "engagement alert when DAU falls below this fraction of the same weekday's 4-week mean"),
    "STORAGE_BUCKET": ("saas-ops", "S3 bucket of backups and model artifacts (with a backup_storage connection)"),
    "STORAGE_PREFIX": ("saas-ops", "key prefix inside STORAGE_BUCKET"),
    "CHURN_HORIZON_DAYS": (30, "an account churns when its MRR reaches 0 within this many days of an observation"),
    "CHURN_TRAINING_MONTHS": (12, "months of weekly observation dates in a training set"),
    "CHURN_EVAL_WEEKS": (8, "the latest observation dates held out to evaluate a model (never trained on)"),
    "CHURN_PROMOTION_MARGIN": (0.005, "a challenger becomes champion when its AUC beats the champion's by this"),
    "CHURN_MAX_TRAINING_ROWS": (1_000_000, "beyond this many account-dates, train on a uniform sample of them"),
    "CHURN_THREADS": (1, "CPU threads for fitting and scoring (OpenMP); more than the worker's idle cores slows it"),
    "CHURN_HIGH_BAND_SHARE": (0.10, "share of accounts (on the evaluation window) in the high risk band"),
    "CHURN_MEDIUM_BAND_SHARE": (0.20, "share of accounts in the medium band, just below the high band"),
    "CHURN_MIN_REALISED_AUC": (0.65, "model-health alert when the realised AUC of the last 7 closed scored days "
                                     "falls below this"),
    "CHURN_PSI_ALERT": (0.25, "model-health alert when a top signal's or the score's population stability index "
                              "exceeds this"),
    "CHURN_PSI_TOP_SIGNALS": (5, "how many of the champion's most important signals the drift alert watches"),
    "CHURN_AUTO_RETRAIN": (False, "trigger churn_train when the model-health check finds a new problem"),
    "CAMPAIGNS": ("failed_payment,trial_ending,high_risk,win_back,inactive_90,inactive_60,inactive_30,low_adoption",
                  "campaigns switched on, in priority order (a user gets the first that applies); leave one out "
                  "to switch it off"),
    "EMAIL_DRY_RUN": (False, "render campaign emails to the outbox folder instead of sending them, even with a "
                             "Resend key"),
    "CAMPAIGN_HOLDOUT_SHARE": (0.10, "share of each campaign's recipients held out (recorded, never emailed) to "
                                     "measure what the emails change; 0 turns holdouts off"),
    "CAMPAIGN_ASSIGNMENT_SALT": ("1", "mixed into the stable hash that assigns arms; a new value starts a new "
                                      "experiment (everyone is assigned again)"),
    "CAMPAIGN_VARIANTS": ("", "A/B variants, e.g. 'inactive_30:short=0.5': campaign:variant=share of the emailed "
                              "arm, comma-separated; a variant's templates are <template>.<variant>.txt/.html"),
    "EMAIL_COST_PER_1000": (0.40, "what 1,000 campaign emails cost, in the reporting currency, for the campaigns' "
                                  "ROI (Resend's list price: 20 USD a month for 50,000)"),
    "EMAIL_MAX_PER_RUN": (500, "at most this many campaign emails queued per day (start small)"),
    "EMAIL_FREQUENCY_CAP_DAYS": (3, "at most one campaign email per user in this many days"),
    "EMAIL_FROM": ("Customer Success <success@example.com>", "sender of campaign emails (a domain verified in "
                   "Resend); a high-risk check-in keeps the address and takes the account owner's name"),
    "PRODUCT_NAME": ("Acme", "the product's name, as campaign emails say it"),
    "APP_URL": ("https://app.example.com", "where campaign emails link to (billing links add /billing)"),
    "UNSUBSCRIBE_URL": ("http://127.0.0.1:8080/saas-ops/unsubscribe", "public address of the unsubscribe "
                        "endpoint the pack's Airflow plugin serves at /saas-ops/unsubscribe (README, Campaigns)"),
    "RESEND_REQUESTS_PER_SECOND": (2.0, "requests per second the Resend account allows (2 unless raised)"),
    "LOW_ADOPTION_MIN_FEATURES": (3, "low_adoption: an account using fewer core features than this in 30 days"),
    "SLA_POLICIES": ("urgent=15m,high=1h,normal=4h,low=24h", "first-response target per ticket priority, and any "
                     "plan's own as plan:priority=duration (e.g. ',enterprise:high=30m'); durations in s, m, h, d"),
    "SLA_WARNING_MINUTES": (30, "an SLA alert names a waiting ticket this many minutes before its target passes"),
    "SLA_ATTAINMENT_ALERT": (0.9, "support alert when a priority's first-response attainment on a day is below this"),
    "SLA_ATTAINMENT_MIN_DUE": (5, "... on a day with at least this many tickets of that priority due"),
    "REVIEW_EMAILS": ("", "comma-separated addresses that receive the weekly review (saas_weekly_review); empty: "
                          "Slack only"),
    "OPS_PAGE_URL": ("http://127.0.0.1:8080/saas-ops/", "public address of the SaaS Ops page, linked from the "
                                                         "weekly review"),
    "DUNNING_SUSPEND_DAYS": (14, "failed_payment: days after the first failed attempt when the account is "
                                 "suspended (the deadline the emails give)"),
}

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def setting(name: str) -> Any:
    """The value of a setting: its Airflow Variable if set, else the default, as the default's type."""
    default, _ = SETTINGS[name]
    from airflow.sdk import Variable

    raw = Variable.get(name, default=None)
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except ValueError:
            raise ValueError(f"Variable {name}={raw!r} is not a {type(default).__name__}") from None
    return raw


def core_features() -> list[str]:
    """The CORE_FEATURES setting as a list of event names."""
    return [f.strip() for f in setting("CORE_FEATURES").split(",") if f.strip()]


def schema_name(name: str) -> str:
    """A schema setting, checked to be a plain identifier (it is put into SQL as an identifier)."""
    value = setting(name)
    if not _IDENTIFIER.fullmatch(value):  # `$` would let a trailing newline through
        raise ValueError(f"Variable {name}={value!r} is not a plain lower-case PostgreSQL identifier")
    return value


def project_home() -> Path:
    return Path(os.environ.get("SAAS_OPS_HOME") or Path(__file__).resolve().parents[2])


def local_dir() -> Path:
    """Root of the local mode: the alert outbox, the email outbox, local backups."""
    configured = setting("LOCAL_DIR")
    return Path(configured) if configured else project_home() / ".local"


def include_dir() -> Path:
    return project_home() / "include"
