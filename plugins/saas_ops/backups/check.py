"""One check of a restore drill, logical (drill.py) or physical (physical_drill.py): what was expected, what was
found; and the checks of a manifest's tables, which both kinds of drill compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Check:
    name: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "expected": self.expected, "actual": self.actual, "ok": self.ok}


def compare_tables(expected: dict[str, Any], actual: dict[str, Any]) -> list[Check]:
    """Every table of a manifest present, with its rows and checksum."""
    checks = [Check("tables present", sorted(expected), sorted(actual))]
    for name, want in sorted(expected.items()):
        got = actual.get(name, {})
        checks.append(Check(f"{name} rows", want["rows"], got.get("rows")))
        checks.append(Check(f"{name} checksum", want["checksum"], got.get("checksum")))
    return checks
