"""`tierline estimate [PATH]`: what tierline would cost on this repository, before any key is given.

Offline: no model is called. Cursor positions are sampled across the repository's code files (a
file is picked in proportion to its lines); half are *editing* positions (a line, then a column
between the indentation and the end of the line, as the calibration replay does) and half
*writing* positions (a block opened in the file, its body hidden, the cursor at the start of the
empty body, as when the code is being written: the routing corpus's positions are of both kinds).
Each is analysed and routed as the server would with the user's config, and priced at the model
that tier would call first (the cheapest of the tier for the language: no latency is known
offline).

Assumptions, printed with the figures: every completion is a model call (no cache hits, no
typing-through: an upper bound), the prompt is the window the server would cut, and the answer is
`OUTPUT_TOKENS_LINE` tokens when the cursor is mid-line (one line is asked for), else
`OUTPUT_TOKENS_BLOCK`.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierline.analysis.languages import language_from, parser_for
from tierline.analysis.scoring import CodeAtCursor, ImportSummary, extract_features, score, summarize_imports
from tierline.config import Config, ConfigError, ModelSpec, load_config
from tierline.prompt import window as prompts
from tierline.routing.health import Health
from tierline.routing.policy import order_tier
from tierline.routing.tiers import choose_tier
from tierline.wire import TIERS, Tier

DEFAULT_PER_DAY = 300  # completions a day: an active developer with automatic completions on
DEFAULT_POSITIONS = 1000
DAYS_PER_MONTH = 30
OUTPUT_TOKENS_LINE = 16
OUTPUT_TOKENS_BLOCK = 64
MAX_FILE_BYTES = 1_000_000  # bigger files are generated or data, not where people type
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target", ".tox"})


@dataclass
class CodeFile:
    path: Path
    language: str
    lines: int


@dataclass
class Sample:
    language: str
    tier: str
    tokens_in: int
    tokens_out: int


@dataclass
class Totals:
    """Tokens and money over a group of samples: tierline's routing and each tier for all."""

    samples: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tierline_usd: float = 0.0
    all_usd: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIERS, 0.0))

    def add(self, sample: Sample, prices: dict[str, ModelSpec | None]) -> None:
        self.samples += 1
        self.tokens_in += sample.tokens_in
        self.tokens_out += sample.tokens_out
        for tier, model in prices.items():
            if model is not None:
                self.all_usd[tier] += model.cost_usd(sample.tokens_in, sample.tokens_out)
        model = prices.get(sample.tier)
        self.tierline_usd += model.cost_usd(sample.tokens_in, sample.tokens_out) if model else 0.0

    def per_1k(self, usd: float) -> float:
        return round(1000 * usd / self.samples, 6) if self.samples else 0.0


def code_files(root: Path) -> Iterator[CodeFile]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(directory) / name
            language = language_from(path.as_uri(), None)
            if language == "plaintext" or parser_for(language) is None:
                continue
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            lines = data.count(b"\n") + 1
            language = language_from(path.as_uri(), None, data.decode("utf-8", "replace"))  # a .h: C or C++
            yield CodeFile(path, language, lines)


def first_model(config: Config, health: Health, tier: Tier, language: str) -> ModelSpec | None:
    """The model the tier would call first offline: no latency known, so the cheapest fitting one."""
    choices = order_tier(config, health, tier, language)
    return choices[0].model if choices else None


@dataclass
class ParsedFile:
    text: str
    source: bytes
    lines: list[str]
    starts: list[int]  # character offset of each line
    byte_starts: list[int]  # byte offset of each line
    tree: Any
    imports: ImportSummary


def _parse(code: CodeFile) -> ParsedFile | None:
    try:
        source = code.path.read_bytes()
        text = source.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    parser = parser_for(code.language)
    tree = parser.parse(source) if parser is not None else None
    lines = text.split("\n")
    starts, byte_starts, offset, byte_offset = [], [], 0, 0
    for line in lines:
        starts.append(offset)
        byte_starts.append(byte_offset)
        offset += len(line) + 1
        byte_offset += len(line.encode("utf-8")) + 1
    return ParsedFile(text, source, lines, starts, byte_starts, tree, summarize_imports(source, tree, code.language))


WRITING_SHARE = 0.5
MAX_HIDDEN_LINES = 40
_OPENS_BLOCK = re.compile(r"(\{|:|\bdo|\bthen)\s*$")


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


@dataclass(frozen=True)
class HiddenBody:
    """A writing position: lines [first, end) replaced by the body's indentation and a newline."""

    before: str
    after: str
    first: int
    end: int


def _writing_position(doc: ParsedFile, rng: random.Random) -> HiddenBody | None:
    """One block's body hidden and the cursor at its start: a line that opens a block (ends with {,
    :, do, then) whose next line is indented deeper."""
    lines = doc.lines
    for _ in range(20):
        at = rng.randrange(len(lines) - 1) if len(lines) > 1 else 0
        opener = lines[at]
        body = lines[at + 1] if at + 1 < len(lines) else ""
        if not _OPENS_BLOCK.search(opener) or not body.strip() or _indent(body) <= _indent(opener):
            continue
        end = at + 1
        while (
            end < len(lines)
            and end - at <= MAX_HIDDEN_LINES
            and (not lines[end].strip() or _indent(lines[end]) > _indent(opener))
        ):
            end += 1
        body_indent = body[: len(body) - len(body.lstrip())]
        before = doc.text[: doc.starts[at + 1]] + body_indent
        after = "\n" + doc.text[doc.starts[end] :] if end < len(lines) else "\n"
        return HiddenBody(before, after, at + 1, end)
    return None


def tree_without_body(doc: ParsedFile, hidden: HiddenBody, source: bytes, parser: Any) -> Any:
    """The file's tree edited to `hidden` and parsed again incrementally (tree-sitter reuses what the
    edit left alone): what a whole parse of `source` gives, at a fraction of its cost."""
    start_byte = doc.byte_starts[hidden.first]
    if hidden.end < len(doc.lines):
        old_end_byte, old_end_point = doc.byte_starts[hidden.end], (hidden.end, 0)
    else:  # to the end of the file, whose last line has no newline
        last = len(doc.lines) - 1
        old_end_byte, old_end_point = len(doc.source), (last, len(doc.source) - doc.byte_starts[last])
    tree = doc.tree.copy()
    tree.edit(
        start_byte=start_byte,
        old_end_byte=old_end_byte,
        new_end_byte=len(hidden.before.encode("utf-8")) + 1,
        start_point=(hidden.first, 0),
        old_end_point=old_end_point,
        new_end_point=(hidden.first + 1, 0),
    )
    return parser.parse(source, tree)


def sample_positions(files: list[CodeFile], config: Config, count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    weights = [f.lines for f in files]
    parsed: dict[Path, ParsedFile | None] = {}
    completion = config.completion
    samples: list[Sample] = []
    for code in rng.choices(files, weights, k=count) if files else []:
        if code.path not in parsed:
            parsed[code.path] = _parse(code)
        doc = parsed[code.path]
        if doc is None or not doc.lines:
            continue
        writing = _writing_position(doc, rng) if rng.random() < WRITING_SHARE else None
        if writing is not None:
            before, after = writing.before, writing.after
            source = (before + after).encode("utf-8")
            parser = parser_for(code.language)
            tree = tree_without_body(doc, writing, source, parser) if parser is not None else None
            imports = doc.imports
        else:
            line_no = rng.randrange(len(doc.lines))
            line = doc.lines[line_no]
            indent = len(line) - len(line.lstrip())
            column = rng.randint(indent, len(line)) if line.strip() else len(line)
            offset = doc.starts[line_no] + column
            before, after = doc.text[:offset], doc.text[offset:]
            source, tree, imports = doc.source, doc.tree, doc.imports
        window = prompts.cut_window(
            before[-completion.prefix_chars * 2 :],
            after[: completion.suffix_chars * 2],
            code.language,
            code.path.name,
            (completion.prefix_chars, completion.suffix_chars),
        )
        tokens_in = prompts.prompt_tokens(window)
        cursor = CodeAtCursor(source, tree, len(before.encode("utf-8")), code.language, str(code.path))
        value = score(extract_features(cursor, imports, tokens_in))
        tier = choose_tier(value, config.routing.thresholds_for(code.language))
        out = OUTPUT_TOKENS_LINE if window.mid_line else OUTPUT_TOKENS_BLOCK
        samples.append(Sample(code.language, str(tier), tokens_in, out))
    return samples


def estimate(root: Path, config: Config, per_day: int, positions: int = DEFAULT_POSITIONS) -> dict[str, Any]:
    started = time.perf_counter()
    files = list(code_files(root))
    samples = sample_positions(files, config, positions, seed=1)
    health = Health(config)
    overall = Totals()
    by_tier: dict[str, Totals] = defaultdict(Totals)
    by_language: dict[str, Totals] = defaultdict(Totals)
    tier_counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TIERS, 0))
    for sample in samples:
        prices: dict[str, ModelSpec | None] = {
            tier: first_model(config, health, tier, sample.language) for tier in TIERS
        }
        overall.add(sample, prices)
        by_tier[sample.tier].add(sample, prices)
        by_language[sample.language].add(sample, prices)
        tier_counts[sample.language][sample.tier] += 1

    def plans(t: Totals) -> dict[str, float]:
        return {"tierline": t.per_1k(t.tierline_usd), **{f"all_{tier}": t.per_1k(t.all_usd[tier]) for tier in TIERS}}

    per_1k = plans(overall)
    n = overall.samples
    return {
        "path": str(root),
        "files": len(files),
        "lines": sum(f.lines for f in files),
        "positions": n,
        "per_day": per_day,
        "assumptions": {
            "output_tokens_mid_line": OUTPUT_TOKENS_LINE,
            "output_tokens_new_line": OUTPUT_TOKENS_BLOCK,
            "cache_hits": 0,
            "days_per_month": DAYS_PER_MONTH,
        },
        "per_1000_completions_usd": per_1k,
        "per_month_usd": {k: round(v * per_day * DAYS_PER_MONTH / 1000, 4) for k, v in per_1k.items()},
        "savings_vs_premium_pct": round(100 * (1 - per_1k["tierline"] / per_1k["all_premium"]), 1)
        if per_1k["all_premium"]
        else 0.0,
        "tokens": {"in": overall.tokens_in, "out": overall.tokens_out},
        "by_tier": {
            tier: {
                "share_pct": round(100 * by_tier[tier].samples / n, 1) if n else 0.0,
                "positions": by_tier[tier].samples,
                "tokens_in": by_tier[tier].tokens_in,
                "tokens_out": by_tier[tier].tokens_out,
                "per_1000_usd": by_tier[tier].per_1k(by_tier[tier].tierline_usd),
            }
            for tier in TIERS
        },
        "by_language": {
            language: {
                "positions": t.samples,
                **{f"{tier}_pct": round(100 * tier_counts[language][tier] / t.samples, 1) for tier in TIERS},
                "per_1000_usd": plans(t),
            }
            for language, t in sorted(by_language.items(), key=lambda kv: -kv[1].samples)
        },
        "seconds": round(time.perf_counter() - started, 2),
    }


def format_estimate(result: dict[str, Any]) -> str:
    from tierline.text_table import bar, render_table

    per_1k, month = result["per_1000_completions_usd"], result["per_month_usd"]
    widest = max(per_1k.values()) or 1.0
    out = [
        f"tierline estimate: {result['path']} ({result['files']} files, {result['lines']:,} lines, "
        f"{result['positions']} cursor positions sampled; no model called)",
        "",
        f"{'plan':<12}{'per 1,000':>12}{'per month':>12}   at {result['per_day']} completions a day",
    ]
    for plan in ("tierline", "all_premium", "all_mid", "all_cheap"):
        out.append(
            f"{plan:<12}{'$' + format(per_1k[plan], '.4f'):>12}{'$' + format(month[plan], '.2f'):>12}   "
            f"{bar(per_1k[plan] / widest, 30)}"
        )
    out += ["", f"tierline saves {result['savings_vs_premium_pct']:.1f}% against all-premium.", ""]
    tiers = [
        [tier, f"{row['share_pct']:.1f}%", row["positions"], f"${row['per_1000_usd']:.4f}"]
        for tier, row in result["by_tier"].items()
    ]
    out += [render_table(["tier", "share", "positions", "per 1,000 in tier"], tiers), ""]
    languages = [
        [
            language,
            row["positions"],
            f"{row['cheap_pct']:.0f}/{row['mid_pct']:.0f}/{row['premium_pct']:.0f}",
            f"${row['per_1000_usd']['tierline']:.4f}",
            f"${row['per_1000_usd']['all_premium']:.4f}",
        ]
        for language, row in result["by_language"].items()
    ]
    out += [render_table(["language", "positions", "cheap/mid/premium %", "tierline /1k", "premium /1k"], languages)]
    a = result["assumptions"]
    out += [
        "",
        f"Assumes every completion is a model call (no cache hits), {a['output_tokens_mid_line']} tokens out mid-line "
        f"and {a['output_tokens_new_line']} on a new line, {a['days_per_month']} days a month; "
        "prices from your config. Change the rate with --per-day N.",
    ]
    return "\n".join(out)


def run_estimate(path: str | None, as_json: bool = False, per_day: int = DEFAULT_PER_DAY) -> int:
    root = Path(path or ".").resolve()
    if not root.is_dir():
        print(f"tierline estimate: {root} is not a directory", file=sys.stderr)
        return 2
    if per_day < 1:
        print("tierline estimate: --per-day must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_config(root)
    except ConfigError as error:
        print(f"tierline estimate: {error}", file=sys.stderr)
        return 2
    result = estimate(root, config, per_day)
    if result["positions"] == 0:
        print(f"tierline estimate: no code files tierline reads under {root}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else format_estimate(result))
    return 0
