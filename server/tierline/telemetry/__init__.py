"""Opt-in telemetry for the team's tools: OpenTelemetry (OTLP/HTTP) and a loopback Prometheus `/metrics`.

What leaves is figures and names chosen by the user's config: tier, model, tokens, cost, latency,
outcome, score, language. Never a prompt, a completion, a file path or name, a workspace name or a
key: the attributes are built from an allow-list (`observation.py`), not from what the pipeline has.

`settings` parses `[telemetry]` (user-only keys, see config/tighten.py); `hub.Telemetry` is what the
engine calls; `otlp` and `prometheus` are the two exports, loaded only when configured (the
OpenTelemetry and Prometheus packages are the optional extra `telemetry` in pyproject.toml).
"""
