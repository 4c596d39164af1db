"""The alert message every channel sends: built by alerts.py, delivered by alert_channels.py (both import it)."""

from __future__ import annotations

from dataclasses import dataclass, field

FAILURE_KINDS = ("task_failure", "dag_failure", "backstop")


@dataclass
class Alert:
    kind: str  # task_failure, dag_failure, backstop, retry, deadline, watchdog, business, data_quality
    severity: str
    dag_id: str
    run_id: str
    title: str
    task_id: str | None = None
    try_number: int | None = None
    max_tries: int | None = None
    owner: str | None = None
    error: str | None = None
    log_url: str | None = None
    details: list[str] = field(default_factory=list)
    failed_so_far: int | None = None

    @property
    def is_failure(self) -> bool:
        return self.kind in FAILURE_KINDS

    def text(self) -> str:
        """The message: one line per fact, each flattened (a name holding CR/LF cannot start a line of its own)."""
        from saas_ops.untrusted import flat

        icon = {"retry": ":warning:", "data_quality": ":warning:",
                "business": ":chart_with_downwards_trend:"}.get(self.kind, ":red_circle:")
        lines = [f"{icon} [{self.severity}] {self.title}"]
        facts = [f"DAG {self.dag_id}"]
        if self.task_id:
            facts.append(f"task {self.task_id}")
        facts.append(f"run {self.run_id}")
        if self.try_number:
            facts.append(f"try {self.try_number}" + (f" of {self.max_tries}" if self.max_tries else ""))
        if self.owner:
            facts.append(f"owner {self.owner}")
        lines.append(" · ".join(facts))
        if self.error:
            lines.append(f"error: {self.error}")
        lines += self.details
        if self.failed_so_far and self.failed_so_far > 1:
            lines.append(f"failed tasks in this run so far: {self.failed_so_far} "
                         "(one message per run and channel; the rest are in saas_ops.alert_log)")
        if self.log_url:
            lines.append(f"log: {self.log_url}")
        return "\n".join(map(flat, lines))
