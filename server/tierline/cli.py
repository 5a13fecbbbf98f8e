"""The `tierline` command: serve, demo, score, report, doctor, simulator."""

from __future__ import annotations

import argparse
import logging
import sys

from tierline import __version__

DESCRIPTION = """\
tierline: AI inline completions for any LSP editor, each request routed to the cheapest model
that can do it well (cheap / mid / premium tiers, chosen from the code around the cursor).

Start here:
  tierline demo                 see routing, caching and savings offline (no API key needed)
  tierline init                 write a starter config for the provider keys you have
  tierline doctor               check config, API keys, grammars and cache (--live: call each model)
  tierline score app.py:12:5    why a cursor position goes to which tier
  tierline estimate [PATH]      what tierline would cost on a repository, before you give it a key
  tierline bench [PATH]         each model and the routing measured on your own code (paid calls)
  tierline report               what completions cost, per tier and model, vs all-premium
  tierline calibrate            thresholds proposed from what you accepted (--apply writes them)
  tierline serve                the language server on stdio (your editor starts this)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierline", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"tierline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.add_argument("--log-file", metavar="PATH", help="write the server log here (default: stderr, warnings only)")
    serve.add_argument("--verbose", action="store_true", help="log at debug level")

    demo = commands.add_parser("demo", help="scripted editing session against the built-in simulator, offline")
    demo.add_argument("--json", action="store_true", help="print the rows and totals as JSON")

    score = commands.add_parser("score", help="features, score and tier of one cursor position (no model called)")
    score.add_argument("position", metavar="FILE:LINE:COL", help="1-based line and column")
    score.add_argument("--json", action="store_true", help="print JSON")
    score.add_argument(
        "--show-prompt", action="store_true", help="also print the exact request that would be sent (after redaction)"
    )

    report = commands.add_parser("report", help="spend, requests, cache hits and savings per tier and model")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument("--html", metavar="FILE", help="write one self-contained HTML page with the charts")
    report.add_argument("--team", action="store_true", help="the team's spend per user from the shared store")
    report.add_argument(
        "--ndjson", action="store_true", help="one JSON line per day, with Copilot's usage-metrics field names"
    )

    estimate = commands.add_parser("estimate", help="projected spend on a repository, offline (no model called)")
    estimate.add_argument("path", nargs="?", metavar="PATH", help="the repository (default: the current directory)")
    estimate.add_argument("--json", action="store_true", help="print JSON")
    estimate.add_argument(
        "--per-day", type=int, default=300, metavar="N", help="completions a day for the monthly figure (default 300)"
    )

    from tierline.bench.arguments import add_arguments as bench_arguments

    bench_arguments(commands.add_parser("bench", help="hide code that exists, ask the models for it, compare"))

    calibrate = commands.add_parser("calibrate", help="thresholds proposed from what was accepted (shares, parity)")
    calibrate.add_argument("--json", action="store_true", help="print JSON")
    calibrate.add_argument("--apply", action="store_true", help="write the per-language thresholds to your config")
    calibrate.add_argument("--days", type=int, default=14, help="how many recent days to read (default 14)")
    calibrate.add_argument("--from-bench", metavar="FILE", help="propose from a `tierline bench --json` file instead")
    calibrate.add_argument(
        "--weights", action="store_true", help="refit the score's weights on what you accepted (--apply writes them)"
    )

    doctor = commands.add_parser("doctor", help="check config, API keys (masked), grammars and cache")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.add_argument("--live", action="store_true", help="also send one tiny request to each configured model")

    init = commands.add_parser("init", help="write a starter config for the provider keys that are set")
    init.add_argument("--provider", action="append", default=[], metavar="NAME", help="a preset to include")
    init.add_argument("--force", action="store_true", help="replace an existing config file")

    trust = commands.add_parser("trust", help="let a workspace's .tierline.toml set models, directories and stores")
    trust.add_argument("path", nargs="?", metavar="PATH", help="the workspace (default: the current directory)")
    trust.add_argument("--list", action="store_true", help="list the trusted workspace files")
    trust.add_argument("--revoke", metavar="PATH", help="stop trusting PATH's .tierline.toml")

    sim = commands.add_parser("simulator", help="run the OpenAI-compatible simulator on 127.0.0.1", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulator"]:
        from tierline.commands.simulator import run_simulator

        return run_simulator(argv[1:])
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    if command == "serve":
        _setup_logging(getattr(args, "log_file", None), getattr(args, "verbose", False))
        from tierline.lsp.transport import serve

        return serve(getattr(args, "tcp", None))
    if command == "demo":
        from tierline.commands.demo import run_demo

        return run_demo(as_json=args.json)
    if command == "score":
        from tierline.commands.score import print_score

        return print_score(args.position, as_json=args.json, show_prompt=args.show_prompt)
    if command == "report":
        from tierline.commands.report import print_report

        return print_report(as_json=args.json, html=args.html, team=args.team, ndjson=args.ndjson)
    if command == "estimate":
        from tierline.commands.estimate import run_estimate

        return run_estimate(args.path, as_json=args.json, per_day=args.per_day)
    if command == "bench":
        from tierline.commands.bench import run_bench

        return run_bench(args)
    if command == "trust":
        from tierline.commands.trust import run_trust

        return run_trust(args.path, list_all=args.list, revoke=args.revoke)
    if command == "calibrate":
        from tierline.commands.calibrate import run_calibrate

        return run_calibrate(
            as_json=args.json, apply=args.apply, days=args.days, from_bench=args.from_bench, weights=args.weights
        )
    if command == "doctor":
        from tierline.commands.doctor import run_doctor

        return run_doctor(as_json=args.json, live=args.live)
    if command == "init":
        from tierline.commands.init import run_init

        return run_init(args.provider, force=args.force)
    return 2


def _setup_logging(log_file: str | None, verbose: bool) -> None:
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO if log_file else logging.WARNING)
    # HTTP libraries log headers and bodies at debug level (a provider may echo the key): never.
    for name in ("httpx", "httpcore", "hpack", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


if __name__ == "__main__":
    raise SystemExit(main())
