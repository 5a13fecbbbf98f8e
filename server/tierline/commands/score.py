"""`tierline score FILE:LINE:COL`: features, score, tier and model of one cursor position, no model called."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from tierline.analysis import languages
from tierline.analysis.documents import UTF32, Document
from tierline.completion.pipeline import CompletionEngine
from tierline.config import ConfigError, load_config
from tierline.config.model import TelemetryConfig
from tierline.providers.openai import request_body


def print_score(spec: str, *, as_json: bool = False, show_prompt: bool = False) -> int:
    try:
        path_text, line_text, col_text = spec.rsplit(":", 2)
        line, column = int(line_text), int(col_text)
    except ValueError:
        print(f"tierline score: expected FILE:LINE:COL (1-based), got {spec!r}", file=sys.stderr)
        return 2
    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        print(f"tierline score: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        config = load_config(Path.cwd())
    except ConfigError as error:
        print(f"tierline score: {error}", file=sys.stderr)
        return 2
    language = languages.language_from(path.resolve().as_uri(), None, text)
    document = Document(
        path.resolve().as_uri(), language, 0, text.encode("utf-8"), parser=languages.parser_for(language)
    )
    # A command, not the editor's server: no telemetry (no /metrics port, no export of a lookup).
    config = dataclasses.replace(config, telemetry=TelemetryConfig())
    engine = CompletionEngine(config, env=os.environ, workspace_root=Path.cwd())
    offset = document.offset_at(max(0, line - 1), max(0, column - 1), UTF32)
    result = engine.explain(document, offset)
    would_answer = result["model"]
    if would_answer is None and engine.config.models:  # no key set: show what its first model would get
        plan = engine.router.plan(result["tier"], document.language)
        would_answer = plan[0].model.name if plan else None
    prompt = prompt_shown(engine, document, offset, would_answer) if show_prompt else None
    if as_json:
        print(json.dumps({**result, "prompt": prompt} if show_prompt else result, indent=2))
        return 0
    features = result["features"]
    print(f"{path}:{line}:{column}  ({features['language']})")
    print(f"  score {result['score']:.3f} -> {result['tier']}  ({result['reason']})")
    print(f"  model {result['model'] or 'none usable'}  ({result['model_reason']})")
    contributions = result["contributions"]
    print("  what moved the score (each signal's part; the parts and the base add up to it):")
    for name, part in ranked_parts(contributions):
        value = features.get(name, features["language"] if name == "language" else "")
        print(f"    {name:<18} {value!s:<12} {part + 0.0:+.3f}")  # + 0.0: no "-0.000"
    print("  every feature read at the cursor:")
    for name, value in features.items():
        weighed = contributions.get(name)
        share = f"{weighed + 0.0:+.3f}" if weighed is not None else ""
        print(f"    {name:<18} {value!s:<12} {share}")
    if prompt is not None:
        print_prompt(prompt)
    return 0


def ranked_parts(contributions: dict[str, float], limit: int = 8) -> list[tuple[str, float]]:
    """The base, then the parts that moved the score most, largest first (the rest are near 0)."""
    moving = sorted(
        ((name, part) for name, part in contributions.items() if name != "base" and abs(part) >= 0.0005),
        key=lambda item: -abs(item[1]),
    )
    return [("base", contributions.get("base", 0.0)), *moving[:limit]]


def prompt_shown(
    engine: CompletionEngine, document: Document, offset: int, model_name: str | None
) -> dict[str, object]:
    """Exactly what would be sent for this position, after redaction: endpoint, JSON body and the
    number of secrets replaced. Nothing, with the reason, for an excluded file."""
    excluded = engine.privacy.excluded(document.uri)
    if excluded is not None:
        return {"sent": False, "reason": f"excluded: {excluded}"}
    model = engine.config.model_named(model_name) if model_name else None
    if model is None:
        return {"sent": False, "reason": "no usable model"}
    engine.context.build_now()  # the workspace's definitions, for the cross-file snippets
    analysis = engine.analyse(document, offset)
    path, body = request_body(model, analysis.window, engine.config.completion.max_tokens, analysis.single_line)
    snippets = [
        {"path": s.path, "line": s.line, "source": s.source, "tokens": s.tokens, "reason": s.reason}
        for s in analysis.window.context
    ]
    return {
        "sent": True,
        "context": snippets,
        "context_budget": engine.config.context.budget(analysis.context_tier) if analysis.context_tier else 0,
        "url": model.base_url + path,
        "body": body,
        "redactions": analysis.redaction.count,
        "rules": dict(analysis.redaction.rules),
    }


def print_prompt(prompt: dict[str, object]) -> None:
    print()
    if not prompt["sent"]:
        print(f"  prompt: nothing would be sent ({prompt['reason']})")
        return
    print(f"  prompt: POST {prompt['url']}  ({prompt['redactions']} secret(s) replaced by placeholders)")
    print("  (headers: Authorization with the key from the variable named in the config; not shown)")
    snippets = prompt.get("context")
    if isinstance(snippets, list) and snippets:
        used = sum(int(s["tokens"]) for s in snippets)
        budget = prompt["context_budget"]
        print(f"  cross-file snippets: {len(snippets)}, {used} of {budget} tokens ([context] max_tokens)")
        for s in snippets:
            print(f"    {s['path']}:{s['line']}  {s['source']}, {s['tokens']} tokens: {s['reason']}")
    print(json.dumps(prompt["body"], indent=2, ensure_ascii=False))
