"""Parsing and running the pack's DAGs as Airflow does, and what a run leaves in Airflow's database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_dag(dag_file: Path, dag_id: str):
    """Parses one DAG file as Airflow's DAG processor would and returns the DAG (dag.test() then
    serializes it from its bundle: dags/ or the tests' fixture DAGs). A fresh parse per run: dag.test()
    replaces a DAG's deadline alerts with their database ids, so a second dag.test() of one object fails."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def pack_dag(dag_id: str):
    """One of the pack's DAGs (dags/<dag_id>.py), freshly parsed."""
    return load_dag(REPO / "dags" / f"{dag_id}.py", dag_id)


def logical_date(day: str, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A run's logical date on `day` at the DAG's scheduled time (UTC)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), dt.UTC)


def asset_events(name: str) -> int:
    """How many events the asset `name` has received in Airflow's database."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(select(func.count()).select_from(AssetEvent).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id).where(AssetModel.name == name))


def carried_days(name: str) -> list[str | None]:
    """The day each event of the asset `name` carries to the runs it triggers (its extra's "day"), oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [extra.get("day") for extra in session.scalars(select(AssetEvent.extra).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id).where(AssetModel.name == name).order_by(AssetEvent.id))]
