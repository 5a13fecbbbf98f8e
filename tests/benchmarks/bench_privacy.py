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

Then crafted inputs (`--crafted`, on by default): each repeats what one rule looks for (the
prefixes, the keywords, the separators, a key block that never ends, nested YAML blocks) to
100 KB and 1 MB, the shapes that made the backtracking rules cubic or quadratic before RE2.
The time of each, at both sizes, and its growth (x4 in size: x4 in time is linear).
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

from tierline.config.model import PrivacyConfig  # noqa: E402
from tierline.privacy.gate import PrivacyGate  # noqa: E402
from tierline.privacy.redaction import redact_text  # noqa: E402
from tierline.prompt.window import cut_window  # noqa: E402

SECRETS = [
    'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'GITHUB = "ghp_' + "a1B2c3D4e5F6g7H8i9J0" * 2 + '"[:40]',
    'DATABASE_URL = "postgres://app:' + "s3cr3tPa55w0rd" + '@db.internal:5432/app"',
    "token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl'",
    'API_KEY = "9f8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c"',
    "stripe.api_key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "'",
]


MB = 1 << 20


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# One 12,000-character line of this cost 12 s before RE2 (the connection-string context search).
CRAFTED = {
    "connection-string context on one line": lambda n: fill("host=host=;password=x ", n),
    "private key BEGIN without END": lambda n: fill("-----BEGIN RSA PRIVATE KEY-----", n),
    "SSH2 key BEGIN without END": lambda n: fill("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", n),
    "PuTTY header without MAC": lambda n: fill("PuTTY-User-Key-File-3:", n),
    "slack prefix run": lambda n: fill("xoxb-", n),
    "gitlab prefix run": lambda n: fill("glpat-", n),
    "pypi prefix run": lambda n: fill("pypi-AgEIcHlwaS5vcmc", n),
    "URL userinfo": lambda n: fill("://a:", n),
    "URL password without host": lambda n: "s://u:" + fill("@", n),
    "password assignments": lambda n: fill('password = "', n),
    "password lines": lambda n: fill("password: a\n", n),
    "secret names": lambda n: fill("secret_token_api_key=", n),
    "aws names": lambda n: fill("aws_secret_key", n),
    "adjacent literals": lambda n: fill('"ab" ', n),
    "adjacent token literals": lambda n: fill('"ghp_ab" + ', n),
    "Kubernetes Secret, nested data blocks": lambda n: (
        "kind: Secret\n" + "".join(" " * i + "data:\n" for i in range(2000)) + fill(" a: b\n", n)
    )[:n],
    ".netrc machines": lambda n: fill("machine ", n),
    "Terraform variables": lambda n: fill('variable "password" {', n),
    "JWT-like dots": lambda n: fill("eyJaaaaaaaaaaaa.", n),
    "Discord-like tokens": lambda n: fill("MTIzNDU2Nzg5MDEyMzQ1Njc4.", n),
    "one line of letters": lambda n: "a" * n,
}


def crafted(sizes: tuple[int, ...]) -> dict[str, dict[str, float]]:
    results = {}
    for name, make in CRAFTED.items():
        row = {}
        for size in sizes:
            text = make(size)
            started = time.perf_counter()
            redact_text(text)
            row[f"{size // 1024}KB_ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = row
    return results


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
    parser.add_argument("--no-crafted", action="store_true", help="skip the crafted 100 KB / 1 MB inputs")
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
    if not args.no_crafted:
        sizes = (100 * 1024, MB // 4, MB)
        report["crafted"] = table = crafted(sizes)
        print(f"\n{'crafted input':<42} {'100 KB ms':>10} {'256 KB ms':>10} {'1 MB ms':>10} {'x4 size':>8}")
        for name, row in table.items():
            growth = row["1024KB_ms"] / max(row["256KB_ms"], 0.1)
            print(
                f"{name:<42} {row['100KB_ms']:>10.1f} {row['256KB_ms']:>10.1f} {row['1024KB_ms']:>10.1f} {growth:>7.1f}x"
            )
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
