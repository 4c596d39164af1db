"""`make bench`: runs every benchmark in bench/ and prints its rows. Each script measures its baseline in
the same run and prints ratios to it. BENCH_SIZES (comma-separated customers) overrides the default sizes."""

import importlib
import pkgutil
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "plugins")]

BENCHMARKS = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
for module in BENCHMARKS:
    print(f"== {module}")
    importlib.import_module(f"bench.{module}").main()
