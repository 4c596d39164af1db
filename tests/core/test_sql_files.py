"""Every SQL file is findable by its name: each one under include/sql/ is named whole (`folder/name.sql`) in the
pack's code (plugins/, dags/, and dev/ for the demo's source tables), never built from pieces of a string.
Migrations aside: they are applied in order from their folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "include" / "sql" / "warehouse"


def test_every_sql_file_is_named_whole_in_the_pack():
    code = "\n".join(p.read_text() for folder in ("plugins", "dags", "dev") for p in (ROOT / folder).rglob("*.py"))
    sql_root = ROOT / "include" / "sql"
    files = [p for p in sql_root.rglob("*.sql") if MIGRATIONS not in p.parents]
    assert len(files) > 100  # the whole tree was read, not an empty folder
    unnamed = sorted(str(p.relative_to(sql_root)) for p in files if f'"{p.relative_to(sql_root)}"' not in code)
    assert unnamed == [], "SQL files not named whole in plugins/, dags/ or dev/: " + ", ".join(unnamed)
