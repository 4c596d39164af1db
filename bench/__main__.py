"""`make bench`: runs every benchmark in bench/ and prints its rows. Each script measures its baseline in
the same run and prints ratios to it. BENCH (comma-separated names, e.g. `make bench BENCH=mrr,engagement`) runs only
those; each script's docstring names the variable that overrides its sizes."""

import importlib
import os
import pkgutil
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "plugins")]

BENCHMARKS = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
ONLY = {f"bench_{name.strip()}" for name in os.environ.get("BENCH", "").split(",") if name.strip()}
for module in BENCHMARKS:
    if ONLY and module not in ONLY:
        continue
    print(f"== {module}")
    importlib.import_module(f"bench.{module}").main()
