"""The test command runs the suite on 4 workers with `--dist loadgroup` (tests/run-all.sh): tests
that share something outside their tmp_path, or a dear module fixture, are kept on one worker by an
`xdist_group` mark. pytest 9.2 with pytest-xdist 3.8 ignored every such mark without a word
(pytest-dev/pytest-xdist#1386: the group suffix went into a node-id field pytest no longer reads);
this fails when the marks stop working again, e.g. after the `pytest<9.2` pin is lifted too early."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("group-check")


def test_a_grouped_test_carries_its_group_when_the_suite_runs_grouped(request: pytest.FixtureRequest) -> None:
    # Set on each xdist worker when the run is `--dist loadgroup`; absent in a one-by-one run.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not running under `--dist loadgroup`: no groups to check")
    assert request.node.nodeid.endswith("@group-check")
