"""Router decisions with a hand-driven clock: latency choice, breakers, escalation. No LSP, no HTTP."""

from __future__ import annotations

from tests.helpers.routing import TWO_CHEAP, model, names, router_for
from tierline.routing.health import COOLDOWN_S, PROBE_INTERVAL_S, STABLE_S
from tierline.routing.tiers import LANGUAGE_ESCALATION_S


def test_cheapest_model_that_fits_the_latency_budget_wins():
    router, _ = router_for(TWO_CHEAP, latency_budget_ms=1000)
    cheaper, pricier = router.config.models[:2]
    router.health.record_success(cheaper, 400)
    router.health.record_success(pricier, 100)

    assert names(router.order_tier("cheap", "python")) == ["cheaper", "pricier"]


def test_a_model_over_the_budget_is_passed_over_and_the_fastest_wins_when_none_fits():
    router, _ = router_for(TWO_CHEAP, latency_budget_ms=1000)
    cheaper, pricier = router.config.models[:2]
    router.health.record_success(cheaper, 3000)
    router.health.record_success(pricier, 200)
    assert names(router.order_tier("cheap", "python")) == ["pricier", "cheaper"]

    router.health.record_success(pricier, 9000)
    router.health.record_success(pricier, 9000)
    order = router.order_tier("cheap", "python")
    assert names(order) == ["cheaper", "pricier"] and "fastest" in order[0].reason


def test_fallback_plan_goes_up_the_tiers_never_down():
    router, _ = router_for(TWO_CHEAP)
    assert names(router.plan("cheap", "python")) == ["cheaper", "pricier", "mid", "top"]
    assert names(router.plan("mid", "python")) == ["mid", "top"]
    assert names(router.plan("premium", "python")) == ["top"]


def test_clearly_weaker_model_for_the_language_is_not_preferred():
    models = [
        model("weak-at-go", "cheap", 0.1, pass_at_1={"default": 0.7, "go": 0.4}),
        model("solid", "cheap", 0.2, pass_at_1={"default": 0.65}),
        model("top", "premium", 5.0),
    ]
    router, _ = router_for(models)
    assert names(router.order_tier("cheap", "go")) == ["solid", "weak-at-go"]
    assert names(router.order_tier("cheap", "python")) == ["weak-at-go", "solid"]


def test_breaker_opens_after_repeated_failures_then_half_opens_and_closes():
    router, clock = router_for(TWO_CHEAP)
    cheaper = router.config.models[0]
    router.health.record_failure(cheaper, "server_error", None, 10)
    assert router.health.breaker_state(cheaper) == "closed"
    router.health.record_failure(cheaper, "server_error", None, 10)
    assert router.health.breaker_state(cheaper) == "open"
    assert names(router.order_tier("cheap", "python")) == ["pricier"]

    clock.now += COOLDOWN_S + 0.1
    assert router.health.breaker_state(cheaper) == "half_open"
    assert "cheaper" in names(router.order_tier("cheap", "python"))
    router.health.mark_probing(cheaper)
    # One probe at a time while half-open.
    assert "cheaper" not in names(router.order_tier("cheap", "python"))

    router.health.record_success(cheaper, 120)
    assert router.health.breaker_state(cheaper) == "closed"


def test_failed_probe_reopens_with_a_longer_cooldown():
    router, clock = router_for(TWO_CHEAP)
    cheaper = router.config.models[0]
    for _ in range(2):
        router.health.record_failure(cheaper, "server_error", None, 10)
    clock.now += COOLDOWN_S + 0.1
    router.health.record_failure(cheaper, "server_error", None, 10)
    assert router.health.breaker_state(cheaper) == "open"
    clock.now += COOLDOWN_S + 0.1
    assert router.health.breaker_state(cheaper) == "open"  # doubled cooldown


def test_rate_limit_opens_at_once_for_retry_after():
    router, clock = router_for(TWO_CHEAP)
    cheaper = router.config.models[0]
    router.health.record_failure(cheaper, "rate_limited", 12.0, 5)
    assert router.health.breaker_state(cheaper) == "open"
    clock.now += 11.0
    assert router.health.breaker_state(cheaper) == "open"
    clock.now += 1.5
    assert router.health.breaker_state(cheaper) == "half_open"


def test_refused_connection_opens_the_whole_provider():
    models = [
        model("one", "cheap", 0.1, "shared"),
        model("two", "cheap", 0.2, "shared"),
        model("top", "premium", 5, "d"),
    ]
    router, _ = router_for(models)
    one = router.config.models[0]
    router.health.record_failure(one, "server_error", None, 1, provider_wide=True)
    assert router.order_tier("cheap", "python") == []
    assert names(router.plan("cheap", "python")) == ["top"]


def test_slow_model_gets_a_probe_now_and_then_to_see_recovery():
    router, clock = router_for(TWO_CHEAP, latency_budget_ms=1000)
    cheaper, pricier = router.config.models[:2]
    router.health.record_success(cheaper, 5000)
    router.health.record_success(pricier, 100)
    assert router.health.due_probe("cheap") is None  # just heard from it
    clock.now += PROBE_INTERVAL_S
    assert router.health.due_probe("cheap") is cheaper
    assert router.health.due_probe("cheap") is None  # one probe per interval
    router.health.record_success(cheaper, 150)
    router.health.record_success(cheaper, 150)
    assert names(router.order_tier("cheap", "python"))[0] == "pricier"  # fast, not yet for long
    clock.now += STABLE_S
    router.health.record_success(cheaper, 150)
    assert names(router.order_tier("cheap", "python"))[0] == "cheaper"


def test_escalate_applies_to_the_next_request_only():
    router, _ = router_for(TWO_CHEAP)
    router.tiers.escalate_next = True
    assert router.decide_tier(0.1, "python").tier == "premium"
    assert router.decide_tier(0.1, "python").tier == "cheap"


def test_a_languages_own_thresholds_decide_its_tier_and_the_others_keep_the_default():
    router, _ = router_for(TWO_CHEAP, languages={"python": {"thresholds": {"mid": 0.6, "premium": 0.9}}})
    assert router.decide_tier(0.5, "python", consume_escalation=False).tier == "cheap"
    assert router.decide_tier(0.8, "python", consume_escalation=False).tier == "mid"
    assert router.decide_tier(0.5, "go", consume_escalation=False).tier == "mid"
    assert router.decide_tier(0.8, "go", consume_escalation=False).tier == "premium"


def test_two_invalid_cheap_answers_escalate_the_language_for_a_while():
    router, clock = router_for(TWO_CHEAP)
    assert router.tiers.note_invalid("cheap", "go") is False
    assert router.tiers.note_invalid("cheap", "go") is True
    decision = router.decide_tier(0.1, "go")
    assert decision.tier == "mid" and "escalated" in decision.reason
    assert router.decide_tier(0.1, "python").tier == "cheap"
    clock.now += LANGUAGE_ESCALATION_S + 1
    assert router.decide_tier(0.1, "go").tier == "cheap"


def test_stats_show_ewma_and_p95_per_model():
    router, _ = router_for(TWO_CHEAP, ewma_alpha=0.5)
    cheaper = router.config.models[0]
    for latency in (100, 200, 300, 400, 500, 600):
        router.health.record_success(cheaper, latency)
    stats = router.health.model_stats(["cheaper"])["cheaper"]
    assert 400 < stats["ewma_ms"] < 600
    assert stats["p95_ms"] == 600


def test_one_answer_far_over_the_budget_moves_traffic_off_at_once():
    router, clock = router_for(TWO_CHEAP, latency_budget_ms=1000)
    cheaper, pricier = router.config.models[:2]
    for _ in range(5):
        router.health.record_success(cheaper, 150)
        router.health.record_success(pricier, 180)
    router.health.record_success(cheaper, 1500)  # brownout: 10x slower
    assert names(router.order_tier("cheap", "python"))[0] == "pricier"
    router.health.record_success(cheaper, 150)  # a fast probe after recovery...
    assert names(router.order_tier("cheap", "python"))[0] == "pricier"
    clock.now += STABLE_S
    router.health.record_success(cheaper, 150)  # ...and still fast STABLE_S later brings it back
    assert names(router.order_tier("cheap", "python"))[0] == "cheaper"


def test_provider_outage_is_retried_every_cooldown_not_after_doubling_waits():
    router, clock = router_for(TWO_CHEAP)
    cheaper = router.config.models[0]
    for _ in range(3):
        router.health.record_failure(cheaper, "server_error", None, 1, provider_wide=True)
        clock.now += COOLDOWN_S + 0.1
    assert router.health.provider_breakers[cheaper.provider].state(clock.now) == "half_open"
