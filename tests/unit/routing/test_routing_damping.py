"""Slow spells with a hand-driven clock: a lost hedge alone, a confirmed slowdown, a relapse. No LSP, no HTTP.

A model that lost a hedge is probed with the next request and comes back at once if that probe is
fast (one hung call); a slowdown confirmed by a slow answer ends only after STABLE_S of fast
answers, so a model flapping faster than that is not sent traffic in each fast phase; a model
slow again soon after coming back is held off, doubling per relapse.
"""

from __future__ import annotations

from typing import Any

from tests.helpers.routing import TWO_CHEAP, names, router_for
from tierline.completion import hedging
from tierline.routing.health import HOLD_DOWN_S, PROBE_INTERVAL_S, RELAPSE_WINDOW_S, STABLE_S
from tierline.routing.router import Router


def first_choice(router: Router) -> str:
    return names(router.order_tier("cheap", "python"))[0]


def warmed() -> tuple[Router, Any, Any]:
    router, clock = router_for(TWO_CHEAP, latency_budget_ms=1000)
    cheaper, pricier = router.config.models[:2]
    for _ in range(5):
        router.health.record_success(cheaper, 150, first_token_ms=60)
        router.health.record_success(pricier, 180, first_token_ms=72)
    return router, clock, cheaper


def test_a_lost_hedge_is_probed_with_the_next_request_and_a_fast_probe_brings_the_model_back() -> None:
    router, clock, cheaper = warmed()
    clock.now += 0.1
    router.health.record_hedge_lost(cheaper, 90)
    assert first_choice(router) == "pricier"
    # No waiting out a probe interval: a one-request fault (a hung call) costs a request or two.
    assert router.health.due_probe("cheap") is cheaper
    assert router.health.due_probe("cheap") is None  # then one per interval
    clock.now += 0.2
    router.health.record_success(cheaper, 150, first_token_ms=60)
    assert first_choice(router) == "cheaper"


def test_a_confirmed_slowdown_ends_only_after_answering_fast_for_a_while() -> None:
    router, clock, cheaper = warmed()
    clock.now += 0.1
    router.health.record_hedge_lost(cheaper, 90)
    assert router.health.due_probe("cheap") is cheaper
    clock.now += 1.5
    router.health.record_success(cheaper, 1500, first_token_ms=600)  # the probe: slow, confirmed
    # While its probes stay slow they come less often: 3 s, then 6 s.
    clock.now += PROBE_INTERVAL_S - 0.1
    assert router.health.due_probe("cheap") is None
    clock.now += 0.1
    assert router.health.due_probe("cheap") is cheaper
    router.health.record_success(cheaper, 1500, first_token_ms=600)
    clock.now += 2 * PROBE_INTERVAL_S - 0.1
    assert router.health.due_probe("cheap") is None
    clock.now += 0.1
    assert router.health.due_probe("cheap") is cheaper
    router.health.record_success(cheaper, 150, first_token_ms=60)  # fast again: probed every 3 s
    assert first_choice(router) == "pricier"  # one fast answer is not a recovery yet
    clock.now += PROBE_INTERVAL_S
    assert router.health.due_probe("cheap") is cheaper
    router.health.record_success(cheaper, 150, first_token_ms=60)
    clock.now += STABLE_S - PROBE_INTERVAL_S
    router.health.record_success(cheaper, 150, first_token_ms=60)
    assert first_choice(router) == "cheaper"
    # Its tail forgets the slow spell: the hedge moments are the fast ones again.
    after = hedging.hedge_after(router.health.latency(cheaper))
    assert after is not None and after.first_token_s is not None and after.first_token_s < 0.2


def test_a_slow_answer_in_the_fast_phase_starts_the_wait_again() -> None:
    router, clock, cheaper = warmed()
    router.health.record_success(cheaper, 1500)
    clock.now += 3
    router.health.record_success(cheaper, 150)
    clock.now += 3
    router.health.record_success(cheaper, 1500)  # flapping
    clock.now += 3
    router.health.record_success(cheaper, 150)
    clock.now += STABLE_S - 0.5
    router.health.record_success(cheaper, 150)
    assert first_choice(router) == "pricier"
    clock.now += 0.5
    router.health.record_success(cheaper, 150)
    assert first_choice(router) == "cheaper"


def test_a_relapse_soon_after_coming_back_holds_the_model_off_doubling_each_time() -> None:
    router, clock, cheaper = warmed()
    router.health.record_hedge_lost(cheaper, 90)  # a lost hedge, then a fast probe: back at once
    router.health.record_success(cheaper, 150)
    assert first_choice(router) == "cheaper"
    clock.now += 6
    router.health.record_hedge_lost(cheaper, 90)  # again 6 s after coming back: a relapse
    router.health.record_success(cheaper, 150)  # fast probes do not bring it back before the hold ends
    clock.now += HOLD_DOWN_S / 2
    router.health.record_success(cheaper, 150)
    assert first_choice(router) == "pricier"
    clock.now += HOLD_DOWN_S / 2 - 0.1
    assert first_choice(router) == "pricier"
    clock.now += 0.2
    assert first_choice(router) == "cheaper"
    clock.now += 5
    router.health.record_hedge_lost(cheaper, 90)  # the second relapse: held twice as long
    router.health.record_success(cheaper, 150)
    clock.now += HOLD_DOWN_S
    assert first_choice(router) == "pricier"
    clock.now += HOLD_DOWN_S - 0.1
    assert first_choice(router) == "pricier"
    clock.now += 0.2
    assert first_choice(router) == "cheaper"


def test_slow_again_long_after_coming_back_is_not_a_relapse() -> None:
    router, clock, cheaper = warmed()
    router.health.record_hedge_lost(cheaper, 90)
    router.health.record_success(cheaper, 150)
    clock.now += RELAPSE_WINDOW_S + 1
    router.health.record_hedge_lost(cheaper, 90)
    router.health.record_success(cheaper, 150)  # the probe is fast: back at once, no hold
    assert first_choice(router) == "cheaper"
