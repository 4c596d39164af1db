"""Which day a run closes, and how settings are read."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from saas_ops import config
from saas_ops.dates import day_closed

UTC = dt.UTC


@pytest.mark.parametrize("logical_date, closes", [
    (dt.datetime(2026, 1, 1, 2, 0, tzinfo=UTC), dt.date(2025, 12, 31)),        # the 02:00 nightly run
    (dt.datetime(2026, 1, 1, 15, 30, tzinfo=UTC), dt.date(2025, 12, 31)),      # triggered by hand that afternoon
    (dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # 22:30 UTC on 31 Dec
     dt.date(2025, 12, 30)),
])
def test_a_run_closes_the_utc_day_before_its_logical_date(logical_date, closes):
    assert day_closed({"logical_date": logical_date}) == closes


def _triggering(*events):
    """Airflow's own accessor over events of (asset name, the extra the producing task put on it)."""
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    return TriggeringAssetEventsAccessor.build(AssetEventDagRunReferenceResult(
        asset={"name": name, "uri": name, "extra": {}}, extra=extra, source_task_id="check", source_dag_id="up",
        source_run_id=f"run{i}", source_map_index=-1, source_aliases=[],
        timestamp=dt.datetime(2026, 3, 2, 0, 20, tzinfo=UTC)) for i, (name, extra) in enumerate(events))


def test_an_asset_triggered_run_uses_run_after():
    run = SimpleNamespace(run_after=dt.datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    assert day_closed({"logical_date": None, "dag_run": run}) == dt.date(2026, 2, 28)
    made_by_hand = _triggering(("saas_ops.mrr", {}))
    assert day_closed({"logical_date": None, "dag_run": run, "triggering_asset_events": made_by_hand}) == \
        dt.date(2026, 2, 28)


def test_an_asset_triggered_run_closes_the_day_its_events_carry():
    """saas_mrr's 02:00 run of 1 March closed 28 Feb but finished after midnight: its consumer, run after
    00:20 on 2 March, closes 28 Feb too, not 1 March. Of two assets, the earlier of their newest days."""
    run = SimpleNamespace(run_after=dt.datetime(2026, 3, 2, 0, 20, tzinfo=UTC))
    late = _triggering(("saas_ops.mrr", {"day": "2026-02-28"}))
    assert day_closed({"logical_date": None, "dag_run": run, "triggering_asset_events": late}) == \
        dt.date(2026, 2, 28)
    both = _triggering(("saas_ops.mrr", {"day": "2026-02-27"}), ("saas_ops.mrr", {"day": "2026-02-28"}),
                       ("saas_ops.engagement", {"day": "2026-02-26"}))
    assert day_closed({"logical_date": None, "dag_run": run, "triggering_asset_events": both}) == \
        dt.date(2026, 2, 26)


def test_settings_default_and_override(monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_BACKUP_MIN_BYTES", raising=False)
    assert config.setting("BACKUP_MIN_BYTES") == 1024
    monkeypatch.setenv("AIRFLOW_VAR_BACKUP_MIN_BYTES", "4096")
    assert config.setting("BACKUP_MIN_BYTES") == 4096
    monkeypatch.setenv("AIRFLOW_VAR_BACKUP_MIN_BYTES", "lots")
    with pytest.raises(ValueError, match="BACKUP_MIN_BYTES='lots' is not a int"):
        config.setting("BACKUP_MIN_BYTES")


def test_schema_settings_must_be_plain_identifiers(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", 'saas_ops"; DROP TABLE x; --')
    with pytest.raises(ValueError, match="not a plain lower-case PostgreSQL identifier"):
        config.schema_name("OUTPUT_SCHEMA")
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", "saas_ops\n")
    with pytest.raises(ValueError, match="not a plain lower-case PostgreSQL identifier"):
        config.schema_name("OUTPUT_SCHEMA")
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", "saas_ops_2")
    assert config.schema_name("OUTPUT_SCHEMA") == "saas_ops_2"
