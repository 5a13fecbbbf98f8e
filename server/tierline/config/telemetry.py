"""`[telemetry]`: validation of the two endpoints, and whether the packages they need are installed.

Both keys say where usage figures go (or which port opens), so only the user's own layers set them
(config/tighten.py ignores them from every other layer). The Prometheus endpoint is refused unless
it is on loopback: `/metrics` answers anyone who can reach it, and a team collects it through its
own agent on the machine, not over the network.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tierline.config.model import DEFAULTS, ConfigError, TelemetryConfig
from tierline.config.urls import public_url

EXTRA_HINT = "pip install '.[telemetry]'"
# Module -> the package that brings it, per export.
OTLP_MODULES = {
    "opentelemetry.sdk": "opentelemetry-sdk",
    "opentelemetry.exporter.otlp.proto.http": "opentelemetry-exporter-otlp-proto-http",
}
PROMETHEUS_MODULES = {"prometheus_client": "prometheus-client"}


def parse_telemetry(source: str, raw: Any) -> TelemetryConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(source, "telemetry", f"must be a table, got {raw!r}")
    for key in raw:
        if key not in DEFAULTS["telemetry"]:
            known = ", ".join(sorted(DEFAULTS["telemetry"]))
            raise ConfigError(source, f"telemetry.{key}", f"unknown key (known: {known})")
    endpoint = raw.get("otlp_endpoint", "")
    prometheus = raw.get("prometheus", "")
    for key, value in (("otlp_endpoint", endpoint), ("prometheus", prometheus)):
        if not isinstance(value, str):
            raise ConfigError(source, f"telemetry.{key}", f"must be a string, got {value!r}")
    if endpoint:
        _check_endpoint(source, endpoint)
    if prometheus:
        loopback_address(source, prometheus)
    return TelemetryConfig(otlp_endpoint=endpoint.rstrip("/"), prometheus=prometheus)


def _check_endpoint(source: str, endpoint: str) -> None:
    key = "telemetry.otlp_endpoint"
    parts = urlsplit(endpoint)
    if "@" in parts.netloc:
        # Never echoed: it holds a credential. Headers come from the standard variable instead.
        raise ConfigError(
            source,
            key,
            "must not hold a user name or password (value not shown); put the collector's credentials in "
            "OTEL_EXPORTER_OTLP_HEADERS, e.g. 'authorization=Bearer ...'",
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError(source, key, f"must be an http(s) URL such as http://127.0.0.1:4318, got {endpoint!r}")
    if parts.query or parts.fragment:
        raise ConfigError(source, key, f"must be a base URL without ?query or #fragment, got {public_url(endpoint)!r}")


def loopback_address(source: str, value: str) -> tuple[str, int]:
    """(host, port) of `[telemetry] prometheus`: "127.0.0.1:9464", "[::1]:9464" or "localhost:9464"."""
    key = "telemetry.prometheus"
    host, colon, port_text = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(source, key, f'must be "HOST:PORT" on loopback, e.g. "127.0.0.1:9464", got {value!r}')
    if host == "localhost":
        return "127.0.0.1", int(port_text)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            source,
            key,
            f"must be a loopback address (127.0.0.1, ::1 or localhost), got {value!r}: /metrics answers anyone "
            "who can reach it; let the machine's own agent scrape it, or put a proxy with access control in front",
        )
    return host, int(port_text)


def missing_packages(config: TelemetryConfig) -> list[str]:
    """The packages an enabled export needs and cannot import (the optional extra is not installed)."""
    wanted: dict[str, str] = {}
    if config.otlp_endpoint:
        wanted.update(OTLP_MODULES)
    if config.prometheus:
        wanted.update(PROMETHEUS_MODULES)
    missing = []
    for module, package in wanted.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


def not_installed_message(missing: list[str]) -> str:
    # Never `pip install tierline[...]`: tierline is not on PyPI, and that name could be anyone's.
    one = len(missing) == 1
    return (
        f"tierline: [telemetry] is configured but {', '.join(missing)} {'is' if one else 'are'} not installed, "
        f"so nothing is exported. Install {'it' if one else 'them'} where tierline runs: pip install "
        f"{' '.join(missing)} (or, in tierline's checkout: {EXTRA_HINT})"
    )


def status(config: TelemetryConfig) -> dict[str, Any]:
    """For `tierline doctor`: what is enabled, and whether it can run."""
    missing = missing_packages(config)
    return {
        "otlp_endpoint": public_url(config.otlp_endpoint) or None,
        "prometheus": config.prometheus or None,
        "missing": missing,
        "error": not_installed_message(missing) if missing else None,
    }


def status_line(entry: Mapping[str, Any]) -> str:
    """`tierline doctor`'s line for `status`."""
    on = [f"OTLP to {entry['otlp_endpoint']}"] if entry["otlp_endpoint"] else []
    on += [f"/metrics on {entry['prometheus']}"] if entry["prometheus"] else []
    if entry["error"]:
        return f"[FAIL] telemetry: {', '.join(on)}: {entry['error']}"
    return f"[ok  ] telemetry: {', '.join(on) or 'off (opt-in: [telemetry] in your config)'}"
