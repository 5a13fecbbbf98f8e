"""The demo's replayed session: a developer writing lines in the real files of `fixtures/`.

At each of a few hundred cursor positions the line under the cursor is cleared, as if being written,
and completions are asked for at the pauses a developer makes while typing it: before the first
character, and after the first word (unless the shown completion was right, then its first
characters are typed and the rest comes with no model call). Some positions are come back to later
unchanged (the cache answers them). The spend comes from the server's own ledger (`tierline.stats`
before and after), so the projection is what tierline would really have charged at list prices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from tierline.devtools.driver import EditorSession

POSITIONS = 240  # cursor positions replayed
SEED = 12  # the replay is the same on every run
TYPE_THROUGH_SHARE = 0.25  # of positions where the shown completion was what the developer wanted
REVISIT_SHARE = 0.15  # of positions the developer comes back to unchanged (a cache hit)
COMPLETIONS_PER_DAY = 500  # completion requests one developer makes in a working day
WORKING_DAYS_PER_MONTH = 21
CHART_WIDTH = 40

LANGUAGE_IDS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cc": "cpp",
    ".lua": "lua",
    ".rb": "ruby",
}
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", '"""', "'''")


class TierSpend(TypedDict):
    requests: int
    model_calls: int
    cache_hits: int
    spend_usd: float


class ReplayResult(TypedDict):
    files: int
    positions: int
    requests: int
    model_calls: int
    cache_hits: int
    typed_through: int
    spend_usd: float
    premium_baseline_usd: float
    by_tier: dict[str, TierSpend]
    completions_per_day: int
    working_days_per_month: int
    month_usd: float
    month_premium_usd: float


@dataclass(frozen=True)
class Position:
    path: Path
    line: int
    indent: str
    content: str  # the line after its indentation: what the developer is about to write


def find_fixtures() -> Path | None:
    """The real code the replay types in: bundled in the wheel, or the checkout's `fixtures/`."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "devtools" / "fixtures", here.parents[3] / "fixtures", Path.cwd() / "fixtures"):
        if candidate.is_dir() and any(candidate.glob("*/*")):
            return candidate
    return None


def _positions(fixtures: Path, rng: random.Random) -> list[Position]:
    files = sorted(p for p in fixtures.glob("*/*") if p.suffix in LANGUAGE_IDS)
    chosen: list[Position] = []
    for index in range(POSITIONS):
        path = files[index % len(files)]
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        candidates = [
            i
            for i, line in enumerate(lines)
            if len(line.strip()) >= 8 and i > 10 and not line.strip().startswith(_COMMENT_STARTS)
        ]
        if not candidates:
            continue
        line_no = rng.choice(candidates)
        text = lines[line_no]
        indent = text[: len(text) - len(text.lstrip())]
        chosen.append(Position(path, line_no, indent, text.strip()))
    return chosen


def _delta(after: dict[str, Any], before: dict[str, Any], key: str) -> Any:
    return round(after[key] - before[key], 6) if isinstance(after[key], float) else after[key] - before[key]


async def replay_session(session: EditorSession, fixtures: Path, before: dict[str, Any]) -> ReplayResult:
    """Replay the positions through the real server; the figures are the ledger's, before to after."""
    rng = random.Random(SEED)
    positions = _positions(fixtures, rng)
    opened: set[str] = set()
    revisits: list[Position] = []
    typed_through = 0

    async def pause_at(position: Position, uri: str) -> str | None:
        """The line cleared to its indentation, the cursor after it: a pause before typing."""
        session.replace(uri, (position.line, 0), (position.line, 10_000), position.indent)
        completion = await session.complete(uri, position.line, len(position.indent), automatic=True)
        return completion.text

    for number, position in enumerate(positions):
        uri = position.path.as_uri()
        if uri not in opened:
            language = LANGUAGE_IDS[position.path.suffix]
            session.open(uri, position.path.read_text(encoding="utf-8", errors="replace"), language)
            opened.add(uri)
        shown = await pause_at(position, uri)
        column = len(position.indent)
        if shown and rng.random() < TYPE_THROUGH_SHARE:
            typed = shown[:2]
            session.type_text(uri, position.line, column, typed)
            completion = await session.complete(uri, position.line, column + len(typed), automatic=True)
            typed_through += bool(completion.route and completion.route.get("reason", "").startswith("typed"))
        else:
            word = position.content.split(" ", 1)[0][:12]
            session.type_text(uri, position.line, column, word + " ")
            await session.complete(uri, position.line, column + len(word) + 1, automatic=True)
        if rng.random() < REVISIT_SHARE:
            revisits.append(position)
        if revisits and number % 10 == 9:  # come back to an earlier spot, unchanged since
            earlier = revisits.pop(0)
            await pause_at(earlier, earlier.path.as_uri())
        # Leave the line as it was in the file.
        session.replace(uri, (position.line, 0), (position.line, 10_000), position.indent + position.content)
    after = await session.command("tierline.stats")
    return _result(before, after, len({p.path for p in positions}), len(positions), typed_through)


def _result(before: dict[str, Any], after: dict[str, Any], files: int, positions: int, typed: int) -> ReplayResult:
    by_tier: dict[str, TierSpend] = {}
    for tier, row in after["by_tier"].items():
        old = before["by_tier"].get(tier, {"requests": 0, "model_calls": 0, "cache_hits": 0, "spend_usd": 0.0})
        by_tier[tier] = {
            "requests": row["requests"] - old["requests"],
            "model_calls": row["model_calls"] - old["model_calls"],
            "cache_hits": row["cache_hits"] - old["cache_hits"],
            "spend_usd": round(row["spend_usd"] - old["spend_usd"], 6),
        }
    requests = _delta(after, before, "requests")
    spend = float(_delta(after, before, "spend_usd"))
    baseline = float(_delta(after, before, "premium_baseline_usd"))
    per_month = COMPLETIONS_PER_DAY * WORKING_DAYS_PER_MONTH / max(1, requests)
    return {
        "files": files,
        "positions": positions,
        "requests": requests,
        "model_calls": _delta(after, before, "model_calls"),
        "cache_hits": _delta(after, before, "cache_hits"),
        "typed_through": typed,
        "spend_usd": spend,
        "premium_baseline_usd": baseline,
        "by_tier": by_tier,
        "completions_per_day": COMPLETIONS_PER_DAY,
        "working_days_per_month": WORKING_DAYS_PER_MONTH,
        "month_usd": round(spend * per_month, 2),
        "month_premium_usd": round(baseline * per_month, 2),
    }


def bar(value: float, scale: float, width: int = CHART_WIDTH) -> str:
    """A horizontal bar in eighths of a character: `value / scale` of `width`."""
    if scale <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / scale * width * 8))
    full, part = divmod(min(eighths, width * 8), 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def render_replay(replay: ReplayResult) -> str:
    scale = max(replay["premium_baseline_usd"], replay["spend_usd"])
    out = [
        f"Replayed session: {replay['positions']} cursor positions in {replay['files']} files of fixtures/, "
        f"{replay['requests']} requests at typing pauses",
        f"({replay['model_calls']} model calls, {replay['cache_hits']} answered by the cache, "
        f"{replay['typed_through']} by typing through a shown completion)",
        "",
        "spend per tier, against sending every call to premium",
    ]
    for tier in ("cheap", "mid", "premium"):
        row = replay["by_tier"].get(tier, {"requests": 0, "model_calls": 0, "cache_hits": 0, "spend_usd": 0.0})
        out.append(
            f"  {tier:<22} {bar(row['spend_usd'], scale):<{CHART_WIDTH}} ${row['spend_usd']:.4f}"
            f"  ({row['model_calls']} calls)"
        )
    out.append(f"  {'tierline, total':<22} {bar(replay['spend_usd'], scale):<{CHART_WIDTH}} ${replay['spend_usd']:.4f}")
    out.append(
        f"  {'all premium':<22} {bar(replay['premium_baseline_usd'], scale):<{CHART_WIDTH}} "
        f"${replay['premium_baseline_usd']:.4f}"
    )
    saved = 100 * (1 - replay["spend_usd"] / replay["premium_baseline_usd"]) if replay["premium_baseline_usd"] else 0.0
    out += [
        "",
        f"Projected per developer per month, at {replay['completions_per_day']} completion requests a day "
        f"and {replay['working_days_per_month']} working days:",
        f"  tierline ${replay['month_usd']:.2f}, all premium ${replay['month_premium_usd']:.2f} (saved {saved:.0f}%)",
    ]
    return "\n".join(out)
