"""`tierline estimate` on a 100,000-line repository: wall time of the whole command (a subprocess,
start-up included), which must stay under 30 s.

    .venv/bin/python tests/benchmarks/bench_estimate.py [--lines 100000] [--runs 3] [--json]

The repository is built in a temporary directory from the fixtures (every language), copied into
numbered packages until it holds at least `--lines` lines. See docs/benchmarks.md, "Estimate".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def build_repository(root: Path, lines: int) -> tuple[int, int]:
    sources = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.name != "README.md"]
    total, files, copy = 0, 0, 0
    while total < lines:
        for source in sources:
            target = root / f"pkg{copy:03d}" / source.relative_to(FIXTURES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            total += source.read_bytes().count(b"\n") + 1
            files += 1
        copy += 1
    return total, files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        lines, files = build_repository(repo, args.lines)
        env = {**os.environ, "TIERLINE_CONFIG": str(Path(tmp) / "none.toml")}
        (Path(tmp) / "none.toml").write_text("")
        times, result = [], {}
        for _ in range(args.runs):
            started = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "-m", "tierline", "estimate", str(repo), "--json"],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            times.append(time.perf_counter() - started)
            result = json.loads(run.stdout)
    figures = {
        "lines": lines,
        "files": files,
        "positions": result["positions"],
        "runs": args.runs,
        "wall_s_median": round(statistics.median(times), 2),
        "wall_s_max": round(max(times), 2),
        "inside_s": result["seconds"],
        "per_1000_completions_usd": result["per_1000_completions_usd"],
        "under_30_s": max(times) < 30,
    }
    print(json.dumps(figures, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 0 if figures["under_30_s"] else 1


if __name__ == "__main__":
    sys.exit(main())
