"""Mutation testing over a named list of behaviours users would notice.

Each mutation breaks one behaviour in a copy of `server/` (one exact text replacement), runs the
tests that should catch it against that copy, and counts the mutation killed when they fail.

    .venv/bin/python tests/mutation/mutate.py            # every mutation, a table and a score
    .venv/bin/python tests/mutation/mutate.py --json     # the same as JSON
    .venv/bin/python tests/mutation/mutate.py cache-key  # some, by name

Not part of CI (a few minutes); the score is recorded in docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutation:
    name: str
    behaviour: str
    file: str  # under server/tierline/
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids or files, relative to the repository


B = "tests/test_behaviours.py::"
MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "cache-key-suffix",
        "the cache key ignores the code after the cursor",
        "accounting/cache.py",
        "_normalize(window.suffix[:KEY_SUFFIX_CHARS])",
        '""',
        (B + "test_same_code_before_the_cursor_but_different_code_after_is_not_a_cache_hit",),
    ),
    Mutation(
        "retry-after",
        "the Retry-After header is never parsed",
        "providers/errors.py",
        "RateLimited(detail, parse_retry_after(retry_after), status=status)",
        "RateLimited(detail, None, status=status)",
        (B + "test_a_rate_limit_carries_the_providers_retry_after",),
    ),
    Mutation(
        "budget-today",
        "the budget ignores what was already spent today",
        "accounting/budget_store.py",
        "for day, usd in ledger_spend_by_day(self._directory / LEDGER_FILENAME, Period.at(now).month):",
        "for day, usd in []:",
        (B + "test_spend_already_in_the_ledger_today_counts_against_the_daily_cap",),
    ),
    Mutation(
        "cancel-http",
        "cancelling a request does not close its HTTP call",
        "providers/openai.py",
        "asyncio.wait_for(self._stream(call),",
        "asyncio.wait_for(asyncio.shield(self._stream(call)),",
        (B + "test_cancelling_closes_the_http_call_long_before_the_models_timeout",),
    ),
    Mutation(
        "debounce",
        "the debounce never waits",
        "completion/pipeline.py",
        "await self.sleep(self.wait_s(state))",
        "pass",
        (
            B + "test_an_automatic_request_waits_the_debounce_before_calling_a_model",
            "tests/test_typing_reuse.py::test_the_wait_before_a_call_follows_the_price_of_the_tier",
        ),
    ),
    Mutation(
        "output-price",
        "output tokens are priced at the input rate",
        "config/model.py",
        "tokens_out * self.output_per_mtok",
        "tokens_out * self.input_per_mtok",
        (B + "test_cost_is_input_tokens_at_the_input_price_plus_output_tokens_at_the_output_price",),
    ),
    Mutation(
        "typed-through-paid",
        "typing-through is recorded as a paid model call",
        "completion/pipeline.py",
        "Charge(shown.tier, shown.model, Outcome.OK, cached=True)",
        "Charge(shown.tier, shown.model, Outcome.OK, cached=False)",
        (B + "test_typing_through_is_recorded_as_a_free_cache_hit_not_a_model_call",),
    ),
    Mutation(
        "cache-expiry",
        "cache entries never expire",
        "accounting/cache.py",
        "expire=self.ttl_seconds",
        "expire=None",
        (B + "test_a_cached_answer_expires_after_its_ttl",),
    ),
    Mutation(
        "clear-cache",
        "tierline.clearCache clears nothing",
        "accounting/books.py",
        'return self._guard("cache", self.cache.clear, 0)',
        "return 0",
        (B + "test_after_clear_cache_the_same_request_calls_the_model_again",),
    ),
    Mutation(
        "timeout-5s",
        "a model's timeout_ms above 5 s is cut at httpx's default",
        "providers/openai.py",
        "httpx.Timeout(model.timeout_ms / 1000)",
        "httpx.Timeout(5.0)",
        (B + "test_a_model_slower_than_five_seconds_but_inside_its_timeout_is_served",),
    ),
    Mutation(
        "storage-raises",
        "a storage fault turns a served answer into an error",
        "accounting/books.py",
        "            self._fault(store, error)\n            return fallback",
        "            raise",
        ("tests/test_storage_faults.py",),
    ),
    Mutation(
        "premium-threshold",
        "a score exactly at the premium threshold stays mid",
        "routing/tiers.py",
        "if score >= thresholds.premium:",
        "if score > thresholds.premium:",
        ("tests/test_scoring.py::test_tier_boundaries",),
    ),
    Mutation(
        "fallback-up",
        "the fallback plan never goes up a tier",
        "routing/policy.py",
        "current = current.up()",
        "current = None",
        ("tests/test_routing.py::test_fallback_plan_goes_up_the_tiers_never_down", "tests/test_faults_end_to_end.py"),
    ),
    Mutation(
        "invalid-served",
        "a junk answer (prose, fences only) is served",
        "completion/pipeline.py",
        "if problem is not None or restored is None:",
        "if False:",
        ("tests/test_faults_end_to_end.py",),
    ),
    Mutation(
        "escalate-ignored",
        "tierline.escalate does not send the next request to premium",
        "routing/tiers.py",
        "if self.escalate_next:",
        "if False:",
        (
            "tests/test_routing.py::test_escalate_applies_to_the_next_request_only",
            "tests/test_lsp_end_to_end.py::test_escalate_sends_only_the_next_request_to_premium",
        ),
    ),
    Mutation(
        "stale-shown",
        "an answer for code the user has since changed is shown",
        "completion/pipeline.py",
        "state.surroundings.is_stale(document, request.offset, answer.text)",
        "False",
        ("tests/test_typing_reuse.py::test_an_answer_for_code_changed_while_it_came_is_not_shown",),
    ),
    Mutation(
        "baseline-output",
        "the all-premium baseline leaves out output tokens (savings understated)",
        "completion/pipeline.py",
        "premium[0].cost_usd(tokens_in, tokens_out, cached_in)",
        "premium[0].cost_usd(tokens_in, 0, cached_in)",
        (B + "test_cost_is_input_tokens_at_the_input_price_plus_output_tokens_at_the_output_price",),
    ),
    Mutation(
        "backspace-calls",
        "backspace fires a model call",
        "completion/pipeline.py",
        'completion.trigger_for(document.language) == "manual" or document.last_change_was_deletion',
        'completion.trigger_for(document.language) == "manual"',
        ("tests/test_lsp_end_to_end.py::test_backspace_does_not_fire_a_call",),
    ),
    Mutation(
        "snooze-ignored",
        "a snoozed automatic request calls a model",
        "completion/pipeline.py",
        "if request.automatic and self.snooze.active():",
        "if request.automatic and not self.snooze.active() and False:",
        ("tests/test_eagerness.py::test_snoozed_automatic_requests_call_no_model_and_invoked_ones_still_answer",),
    ),
    Mutation(
        "max-lines-uncut",
        "an answer is not cut to the language's max_lines",
        "completion/postprocess.py",
        "    text = cut_lines(text, window.max_lines)\n",
        "",
        ("tests/test_eagerness.py::test_max_lines_holds_a_language_to_that_many_lines",),
    ),
    Mutation(
        "missing-key-called",
        "a model whose key is not set is called anyway",
        "completion/pipeline.py",
        "if isinstance(api_key, MissingKey):\n                continue",
        "if isinstance(api_key, MissingKey):\n                api_key = None",
        ("tests/test_lsp_end_to_end.py::test_model_without_its_key_is_skipped_with_one_message",),
    ),
    Mutation(
        "utf16-as-bytes",
        "utf-16 positions are treated as bytes after non-ASCII text",
        "analysis/documents.py",
        "if encoding == UTF8 or line.isascii():",
        "if True:",
        (
            "tests/test_units.py::test_utf8_and_utf16_positions_reach_the_same_byte",
            "tests/test_lsp_end_to_end.py::test_positions_after_non_ascii_text_map_to_the_same_code",
        ),
    ),
    Mutation(
        "hung-up-free",
        "a call tierline hangs up on after the provider took it costs nothing",
        "completion/pipeline.py",
        "if not (hung_up and call.progress.accepted):",
        "if True:",
        ("tests/test_providers_hedging.py::test_the_call_hung_up_on_is_billed_for_its_prompt_and_what_it_sent",),
    ),
    Mutation(
        "azure-auth",
        "Azure's api-key header is not chosen on *.openai.azure.com: the documented config fails",
        "providers/shaping.py",
        'if ".openai.azure.com" in host_of(model):',
        "if False:",
        ("tests/test_docs_configs.py",),
    ),
    Mutation(
        "reuse-never",
        "a newer key never takes the answer of the call under way: typing that agrees pays again",
        "completion/pipeline.py",
        "reused = await self._adopt(state, flight)",
        "reused = None",
        ("tests/test_typing_reuse.py::test_typing_what_the_answer_says_costs_one_call_and_serves_the_rest",),
    ),
    Mutation(
        "cancel-hangs-up",
        "a cancelled request hangs its call up even when the typing agrees with the answer",
        "completion/pipeline.py",
        "self.sessions.review(state.cursor.document.uri, state.cursor.document.source)\n            raise",
        "self.sessions.hang_up(state.cursor.document.uri)\n            raise",
        (
            "tests/test_typing_reuse.py::test_an_answer_that_came_after_its_request_was_cancelled_is_served_to_the_next_key",
        ),
    ),
    Mutation(
        "keep-unknown",
        "a call with no first token yet is kept through typing (billed when it answers)",
        "completion/session.py",
        "return not typed",
        "return True",
        ("tests/test_typing_reuse.py::test_a_key_typed_before_the_first_token_hangs_the_call_up_unbilled",),
    ),
    Mutation(
        "no-hang-up-on-change",
        "typing that contradicts the answer does not hang the call up until the next request",
        "lsp/server.py",
        "ls.engine.sessions.review(document.uri, document.source)",
        "pass",
        (
            "tests/test_typing_reuse.py::test_typing_that_contradicts_the_answer_hangs_the_call_up",
            "tests/test_typing_reuse.py::test_a_key_typed_before_the_first_token_hangs_the_call_up_unbilled",
        ),
    ),
    Mutation(
        "bench-samples-excluded",
        "tierline bench samples positions in an excluded file",
        "commands/bench.py",
        "if engine.privacy.excluded(code.path.as_uri()) is None",
        "if True",
        ("tests/test_bench.py::test_an_excluded_file_is_never_sampled_and_a_secret_never_sent",),
    ),
    Mutation(
        "bench-max-usd",
        "tierline bench --max-usd does not stop the spending",
        "bench/runner.py",
        "if max_usd is not None and progress.spent_usd",
        "if False and progress.spent_usd",
        ("tests/test_bench.py::test_max_usd_is_a_hard_stop",),
    ),
    Mutation(
        "bench-unconfirmed",
        "tierline bench calls models without the confirmation it asked for",
        "commands/bench.py",
        "and not args.yes and not _confirm(",
        "and False and not _confirm(",
        ("tests/test_bench.py::test_nothing_is_sent_until_the_estimate_is_confirmed",),
    ),
    Mutation(
        "bench-resume-forgets",
        "tierline bench --resume asks again what was already done",
        "commands/bench.py",
        "        journal.load()",
        "        pass",
        ("tests/test_bench.py::test_ctrl_c_keeps_what_is_done_and_resume_goes_on",),
    ),
    Mutation(
        "bench-rows-unmarked",
        "tierline bench's ledger rows are not marked bench",
        "bench/runner.py",
        "super().record(dataclasses.replace(row, bench=True))",
        "super().record(row)",
        ("tests/test_bench.py::test_bench_measures_each_model_and_the_routing_priced_to_the_token",),
    ),
    # -- issue 22's survivors and this round's behaviours ------------------------------------------
    Mutation(
        "suffix-not-redacted",
        "secrets after the cursor are sent as they are",
        "privacy/gate.py",
        "suffix, _ = redact_text(window.suffix, redaction, config_file=config_file)",
        "suffix = window.suffix",
        ("tests/test_privacy_end_to_end.py::test_secrets_after_the_cursor_are_replaced_too",),
    ),
    Mutation(
        "ignore-file-stale",
        "an ignore file edited during a session is not read again",
        "privacy/exclusion.py",
        "        if stamp != self.stamp:",
        "        if self.stamp is None:",
        (
            "tests/test_privacy_end_to_end.py::test_an_ignore_file_written_during_the_session_applies_to_the_next_request",
        ),
    ),
    Mutation(
        "cache-write-price",
        "an Anthropic prompt-cache write is billed at the plain input price",
        "completion/request.py",
        "cost += call.cache_write_tokens_in * model.input_per_mtok * 0.25 / 1_000_000",
        "cost += 0",
        ("tests/test_units.py::test_an_anthropic_prompt_cache_write_is_billed_at_one_and_a_quarter_times_input",),
    ),
    Mutation(
        "refusal-message-repeated",
        "every refused request repeats the budget message",
        "completion/pipeline.py",
        """        if marker in self._said:
            return
        self._said.add(marker)
        self._notify("warning", text)""",
        """        self._notify("warning", text)""",
        ("tests/test_budget_end_to_end.py::test_50_concurrent_requests_in_one_server_stay_within_the_cap",),
    ),
    Mutation(
        "config-word-password",
        "a one-word password in a YAML file is sent",
        "privacy/gate.py",
        "config_file = is_config_file(window.filename)",
        "config_file = False",
        ("tests/test_privacy_end_to_end.py::test_a_one_word_password_in_a_yaml_file_is_not_sent",),
    ),
    Mutation(
        "typed-through-counted",
        "characters the user typed through a completion count as accepted",
        "completion/pipeline.py",
        "        self.acceptance.typed_over(uri, document.source, request.offset)\n",
        "",
        (
            "tests/test_acceptance_end_to_end.py::test_accepting_the_first_item_after_typing_through_it_counts_only_what_it_wrote",
        ),
    ),
    Mutation(
        "pass-at-1-unwritten",
        "calibrate --from-bench --apply does not write the measured pass_at_1",
        "commands/calibrate_bench.py",
        "models_written = apply_pass_at_1(target, pass_at_1)",
        "models_written = []",
        ("tests/test_bench.py::test_calibrate_from_bench_proposes_cheaper_thresholds_that_keep_the_exact_matches",),
    ),
    Mutation(
        "upward-import",
        "a lower layer imports the engine",
        "privacy/gate.py",
        "from typing import Protocol\n",
        "from typing import Protocol\n\nfrom tierline.completion.request import Answer  # noqa: F401\n",
        ("tests/test_layout.py::test_every_import_points_down_the_layers_and_every_package_has_a_layer",),
    ),
)


def run_one(mutation: Mutation, python: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutation.name}-") as work:
        server = Path(work) / "server"
        shutil.copytree(ROOT / "server", server, ignore=shutil.ignore_patterns("__pycache__"))
        target = server / "tierline" / mutation.file
        source = target.read_text()
        if source.count(mutation.old) != 1:
            return {
                "name": mutation.name,
                "status": "stale",
                "detail": f"{mutation.old!r} not found once in {mutation.file}",
            }
        target.write_text(source.replace(mutation.old, mutation.new))
        env = {**os.environ, "PYTHONPATH": str(server)}
        started = time.monotonic()
        result = subprocess.run(
            [python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutation.tests],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seconds = round(time.monotonic() - started, 1)
    # 1: tests failed (killed); 0: all passed (survived); anything else: the run itself broke.
    status = {0: "survived", 1: "killed"}.get(result.returncode, "error")
    tail = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    return {"name": mutation.name, "status": status, "seconds": seconds, "detail": " ".join(tail)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="run only these mutations")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    results = []
    for mutation in chosen:
        outcome = run_one(mutation, sys.executable)
        outcome["behaviour"] = mutation.behaviour
        results.append(outcome)
        if not args.json:
            print(f"{outcome['status']:<9} {mutation.name:<20} {mutation.behaviour}", flush=True)
    killed = sum(r["status"] == "killed" for r in results)
    score = round(100 * killed / len(results), 1) if results else 0.0
    if args.json:
        print(json.dumps({"killed": killed, "total": len(results), "score_pct": score, "results": results}, indent=2))
    else:
        print(f"\n{killed} of {len(results)} mutations killed: {score}%")
    return 0 if score >= 90 else 1


if __name__ == "__main__":
    raise SystemExit(main())
