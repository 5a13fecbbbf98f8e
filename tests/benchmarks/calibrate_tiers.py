"""Replay cursor positions over the fixtures and report how the default scoring tiers them.

    .venv/bin/python tests/benchmarks/calibrate_tiers.py [--positions 600] [--seed 1] [--json]

Positions are spread evenly over the languages, then over each language's files; within a file a
random line is picked and the cursor put at a random column between the indentation and the end
of the line (where typing happens). Each position gets the same features the server computes:
the import summary of the file, the nesting depth at the cursor, and the context tokens of the
prompt window cut with the default prefix/suffix sizes. No model is called; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tierline import config
from tierline.analysis.languages import language_from, parser_for
from tierline.analysis.scoring import (
    CodeAtCursor,
    ImportSummary,
    contributions,
    extract_features,
    score,
    summarize_imports,
)
from tierline.prompt import window as prompts
from tierline.routing.tiers import choose_tier

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TIERS = config.TIERS


@dataclass
class Document:
    path: Path
    language: str
    source: bytes
    text: str
    lines: list[str]
    line_starts: list[int]  # character offsets
    tree: object
    imports: ImportSummary


def load_documents() -> dict[str, list[Document]]:
    by_language: dict[str, list[Document]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.name == "README.md":
            continue
        language = language_from(path.as_uri(), None)
        source = path.read_bytes()
        text = source.decode("utf-8")
        parser = parser_for(language)
        tree = parser.parse(source) if parser is not None else None
        lines = text.split("\n")
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        imports = summarize_imports(source, tree, language)
        by_language[language].append(Document(path, language, source, text, lines, starts, tree, imports))
    return by_language


def sample_position(doc: Document, rng: random.Random) -> int:
    """A character offset: random line, random column from its indentation to its end."""
    line_no = rng.randrange(len(doc.lines))
    line = doc.lines[line_no]
    indent = len(line) - len(line.lstrip())
    column = rng.randint(indent, len(line)) if line.strip() else len(line)
    return doc.line_starts[line_no] + column


def run(positions: int, seed: int) -> dict:
    rng = random.Random(seed)
    documents = load_documents()
    languages = sorted(documents)
    thresholds = config.Thresholds()
    completion = config.CompletionConfig()
    rows: list[dict] = []
    timings_us: list[float] = []
    for i in range(positions):
        language = languages[i % len(languages)]
        doc = documents[language][(i // len(languages)) % len(documents[language])]
        char_offset = sample_position(doc, rng)
        before, after = doc.text[:char_offset], doc.text[char_offset:]
        byte_offset = len(before.encode("utf-8"))
        window = prompts.cut_window(
            before, after, language, doc.path.name, (completion.prefix_chars, completion.suffix_chars)
        )
        started = time.perf_counter()
        features = extract_features(
            CodeAtCursor(doc.source, doc.tree, byte_offset, language),
            doc.imports,
            prompts.prompt_tokens(window),  # type: ignore[arg-type]
        )
        timings_us.append((time.perf_counter() - started) * 1e6)
        value = score(features)
        rows.append(
            {
                "file": f"{doc.path.parent.name}/{doc.path.name}",
                "line": before.count("\n") + 1,
                "score": value,
                "tier": choose_tier(value, thresholds),
                "features": features.as_dict(),
                "contributions": contributions(features),
            }
        )
    return summarize(rows, timings_us, positions, seed, thresholds)


def _shares(rows: list[dict]) -> dict:
    n = len(rows)
    counts = {tier: sum(1 for r in rows if r["tier"] == tier) for tier in TIERS}
    return {
        "positions": n,
        **{f"{tier}_pct": round(100.0 * counts[tier] / n, 1) if n else 0.0 for tier in TIERS},
        "mean_score": round(statistics.fmean(r["score"] for r in rows), 3) if n else 0.0,
        "mean_depth": round(statistics.fmean(r["features"]["nesting_depth"] for r in rows), 2) if n else 0.0,
    }


def summarize(
    rows: list[dict], timings_us: list[float], positions: int, seed: int, thresholds: config.Thresholds
) -> dict:
    by_language: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_language[row["features"]["language"]].append(row)
    terms = rows[0]["contributions"].keys() if rows else ()
    return {
        "positions": positions,
        "seed": seed,
        "thresholds": {"mid": thresholds.mid, "premium": thresholds.premium},
        "overall": _shares(rows),
        "by_language": {lang: _shares(group) for lang, group in sorted(by_language.items())},
        "mean_contributions": {t: round(statistics.fmean(r["contributions"][t] for r in rows), 4) for t in terms},
        "extract_features_us": {
            "median": round(statistics.median(timings_us), 1),
            "p95": round(sorted(timings_us)[int(0.95 * (len(timings_us) - 1))], 1),
            "max": round(max(timings_us), 1),
        }
        if timings_us
        else {},
    }


def print_table(result: dict) -> None:
    header = f"{'language':<12}{'n':>5}{'cheap %':>9}{'mid %':>8}{'premium %':>11}{'mean score':>12}{'mean depth':>12}"
    print(header)
    print("-" * len(header))
    for name, row in [*result["by_language"].items(), ("overall", result["overall"])]:
        if name == "overall":
            print("-" * len(header))
        print(
            f"{name:<12}{row['positions']:>5}{row['cheap_pct']:>9.1f}{row['mid_pct']:>8.1f}"
            f"{row['premium_pct']:>11.1f}{row['mean_score']:>12.3f}{row['mean_depth']:>12.2f}"
        )
    print()
    print("mean contribution per feature:", ", ".join(f"{k} {v:.3f}" for k, v in result["mean_contributions"].items()))
    timing = result["extract_features_us"]
    if timing:
        print(f"extract_features: median {timing['median']} us, p95 {timing['p95']} us, max {timing['max']} us")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=600, help="cursor positions to sample (default 600)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.positions < 1:
        parser.error("--positions must be at least 1")
    result = run(args.positions, args.seed)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_table(result)
        print()
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
