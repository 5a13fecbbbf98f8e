"""`tierline score FILE:LINE:COL`: features, score, tier and model of one cursor position, no model called."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tierline.analysis import languages
from tierline.analysis.documents import UTF32, Document
from tierline.completion.pipeline import CompletionEngine
from tierline.config import ConfigError, load_config


def print_score(spec: str, *, as_json: bool = False) -> int:
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
    language = languages.language_from(path.resolve().as_uri(), None)
    document = Document(
        path.resolve().as_uri(), language, 0, text.encode("utf-8"), parser=languages.parser_for(language)
    )
    engine = CompletionEngine(config, env=os.environ)
    result = engine.explain(document, document.offset_at(max(0, line - 1), max(0, column - 1), UTF32))
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    features = result["features"]
    print(f"{path}:{line}:{column}  ({features['language']})")
    print(f"  score {result['score']:.3f} -> {result['tier']}  ({result['reason']})")
    print(f"  model {result['model'] or 'none usable'}  ({result['model_reason']})")
    print("  features and their part of the score:")
    contributions = result["contributions"]
    for name, value in features.items():
        part = contributions.get(name)
        share = f"+{part:.3f}" if part is not None else ""
        print(f"    {name:<18} {value!s:<12} {share}")
    return 0
