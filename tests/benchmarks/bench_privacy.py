"""What privacy adds to one request: secret redaction of the prompt windows and the exclusion check.

    .venv/bin/python tests/benchmarks/bench_privacy.py [--requests 2000] [--json FILE]

The same 10,000-line Python file as the server overhead row of bench_server.py (real fixture code,
cursor in a function at the end), cut into the windows the server sends (3,000 characters before
the cursor, 1,000 after). Each sample is one request's privacy work, timed in-process with
`time.perf_counter`:

- redaction of the windows of plain code (no secret: the common case);
- redaction of windows holding six secrets of different kinds (the work of finding and replacing);
- the exclusion check of the document's path (built-in excludes, `[privacy] exclude`, four ignore
  files at the workspace root, each stat'ed per request to see edits).

A one-character edit before each sample moves the window, as a keystroke does. Target: redaction
adds at most 0.5 ms p95 to the 10k-line routing overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_server import percentile, python_file  # noqa: E402

from tierline.completion.prompts import cut_window  # noqa: E402
from tierline.config.model import PrivacyConfig  # noqa: E402
from tierline.privacy.gate import PrivacyGate  # noqa: E402

SECRETS = [
    'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'GITHUB = "ghp_' + "a1B2c3D4e5F6g7H8i9J0" * 2 + '"[:40]',
    'DATABASE_URL = "postgres://app:' + "s3cr3tPa55w0rd" + '@db.internal:5432/app"',
    "token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl'",
    'API_KEY = "9f8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c"',
    "stripe.api_key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "'",
]


def windows(text: str, offset: int) -> tuple[str, str]:
    return text[:offset], text[offset:]


def measure(gate: PrivacyGate, text: str, requests: int) -> list[float]:
    cursor = len(text) - 1
    samples = []
    for i in range(requests):
        text = text[:cursor] + "z" + text[cursor:]  # a keystroke moves the window
        cursor += 1
        if i % 50 == 49:
            text, cursor = text[: cursor - 50] + text[cursor:], cursor - 50
        before, after = windows(text, cursor)
        window = cut_window(before, after, "python", "big.py", (3000, 1000))
        started = time.perf_counter()
        gate.redact(window)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(samples, 50), 4), "p95_ms": round(percentile(samples, 95), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, line in ((".tierlineignore", "generated/\n"), (".cursorignore", "*.sql\n"), (".aiexclude", "x/\n")):
            (root / name).write_text(line)
        gate = PrivacyGate(PrivacyConfig(exclude=("**/fixtures/private/**",), redact=True), root)
        plain = python_file(10_000)
        head, tail = plain.rsplit("\ndef tail", 1)
        with_secrets = head + "\n" + "\n".join(SECRETS) + "\n\ndef tail" + tail
        results = {
            "redaction, plain code (10k-line file)": summary(measure(gate, plain, args.requests)),
            "redaction, six secrets in the window": summary(measure(gate, with_secrets, args.requests)),
        }
        uri = (root / "src" / "big.py").as_uri()
        exclusion = []
        for _ in range(args.requests):
            started = time.perf_counter()
            gate.excluded(uri)
            exclusion.append((time.perf_counter() - started) * 1000)
        results["exclusion check"] = summary(exclusion)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    report = {
        "requests": args.requests,
        "python": platform.python_version(),
        "load_average_1m": load,
        "results": results,
        "target_redaction_p95_ms": 0.5,
        "met": all(v["p95_ms"] <= 0.5 for k, v in results.items() if k.startswith("redaction")),
    }
    print(f"{'measurement':<42} {'p50 ms':>8} {'p95 ms':>8}")
    for name, figures in results.items():
        print(f"{name:<42} {figures['p50_ms']:>8.3f} {figures['p95_ms']:>8.3f}")
    print(f"load average {load}; target p95 <= 0.5 ms for redaction: {'met' if report['met'] else 'NOT met'}")
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
