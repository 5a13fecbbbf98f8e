"""A simulated user who can tell a good answer from a bad one (for the simulator, demo and tests).

Each model gets a *skill* (by tier: cheap < mid < premium) and each cursor position a hidden
*difficulty* the router never sees directly: how deep the cursor's line is indented, how much
tricky code (bit twiddling, atomics, locks, pointers, syscalls) sits just above it, plus a
per-language offset a test can set ("this codebase's Go is harder than it looks"). The user
accepts an answer with probability ``BASE_ACCEPTANCE * sigmoid(SHARPNESS * (skill - difficulty))``:
on easy positions every tier is accepted about as often; on hard ones cheap answers much less.

The draw is deterministic: a hash of the answer's identity (model, code around the cursor, seed),
so the same session gives the same verdicts every run.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tierline import config as tl_config

BASE_ACCEPTANCE = 0.9
SHARPNESS = 12.0
SKILL_BY_TIER: dict[str, float] = {"cheap": 0.55, "mid": 0.8, "premium": 0.92}
# Difficulty: a floor, per indentation level (of 4 columns; a tab is one level), per tricky token.
DIFFICULTY_FLOOR = 0.05
PER_LEVEL = 0.06
PER_TRICKY = 0.06
MAX_TRICKY = 6
TRICKY_LINES = 15
MAX_VERDICTS = 20_000
TRICKY = re.compile(
    r"<<|>>|&\^|\^=|\batomic|\bunsafe\b|\bMutex\b|\bmutex\b|\block\(|\bmmap\b|\bsyscall|\bptr\b|\*mut\b|"
    r"\bcompare_exchange|\bCAS\b|\bvolatile\b|\bmemcpy\b|\bioctl\b|\bfutex\b"
)


def _tier_of(model_id: str) -> str | None:
    last = model_id.rstrip("/").rsplit("/", 1)[-1]
    for spec in tl_config.DEFAULT_MODELS:
        if model_id in (spec["model"], spec["name"]) or last in (spec["model"].rsplit("/", 1)[-1], spec["name"]):
            return str(spec["tier"])
    return None


def _levels(line: str) -> int:
    indent = line[: len(line) - len(line.lstrip())]
    return indent.count("\t") + indent.count(" ") // 4


def _unit(*parts: str) -> float:
    """A number in [0, 1) from text: the simulated user's die."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _squeezed(text: str) -> str:
    """Text without whitespace: the server re-indents and trims what it shows."""
    return "".join(text.split())


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class Verdict:
    skill: float
    difficulty: float
    probability: float
    accept: bool

    def as_record(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "difficulty": round(self.difficulty, 4),
            "probability": round(self.probability, 4),
            "accept": self.accept,
        }


@dataclass
class QualityModel:
    """Skills per model (by tier unless set by name), hidden difficulty per position, a seed."""

    skills: dict[str, float] = field(default_factory=dict)  # model id or registry name -> skill
    language_offsets: dict[str, float] = field(default_factory=dict)
    seed: str = "tierline"
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # answer sent (no whitespace) -> verdict

    def skill(self, model_id: str) -> float:
        last = model_id.rstrip("/").rsplit("/", 1)[-1]
        for key in (model_id, last):
            if key in self.skills:
                return self.skills[key]
        return SKILL_BY_TIER.get(_tier_of(model_id) or "", SKILL_BY_TIER["mid"])

    def difficulty(self, prefix: str, language: str | None) -> float:
        lines = prefix.split("\n")
        tricky = min(MAX_TRICKY, len(TRICKY.findall("\n".join(lines[-TRICKY_LINES:]))))
        hidden = DIFFICULTY_FLOOR + PER_LEVEL * _levels(lines[-1]) + PER_TRICKY * tricky
        return min(1.0, max(0.0, hidden + self.language_offsets.get(language or "", 0.0)))

    def judge(self, model_id: str, prefix: str, suffix: str, language: str | None) -> Verdict:
        skill = self.skill(model_id)
        difficulty = self.difficulty(prefix, language)
        probability = BASE_ACCEPTANCE * sigmoid(SHARPNESS * (skill - difficulty))
        draw = _unit(self.seed, model_id, prefix[-400:], suffix[:200])
        return Verdict(skill, difficulty, probability, draw < probability)

    def record(self, answer: str, model_id: str, prefix: str, suffix: str, language: str | None) -> Verdict:
        """Judge an answer the simulator sent and remember the verdict under its text."""
        verdict = self.judge(model_id, prefix, suffix, language)
        key = _squeezed(answer)
        self.verdicts.pop(key, None)
        self.verdicts[key] = verdict
        while len(self.verdicts) > MAX_VERDICTS:
            self.verdicts.pop(next(iter(self.verdicts)))
        return verdict

    def verdict_for(self, text: str) -> bool | None:
        """The simulated user's verdict on a shown completion: that of the latest answer sent that
        holds it (the server shows a cleaned part of what the model sent); None when none does."""
        shown = _squeezed(text)
        if not shown:
            return None
        for answer in reversed(self.verdicts):
            if shown in answer:
                return self.verdicts[answer].accept
        return None

    def configure(self, fields: Mapping[str, Any]) -> None:
        """From the admin endpoint: {"skills": {...}, "language_offsets": {...}, "seed": "..."}."""
        for name in ("skills", "language_offsets"):
            table = fields.get(name)
            if table is None:
                continue
            if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in table.items()
            ):
                raise ValueError(f"{name} must map names to numbers")
            getattr(self, name).update({k: float(v) for k, v in table.items()})
        if "seed" in fields:
            if not isinstance(fields["seed"], str):
                raise ValueError("seed must be a string")
            self.seed = fields["seed"]


__all__ = ["QualityModel", "Verdict"]
