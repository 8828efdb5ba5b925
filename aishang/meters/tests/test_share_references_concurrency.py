"""Two clerks preview the same month again at once on PostgreSQL: each replaces its drafts and their shares, and
neither waits for the other's shares to commit (a share's run is kept by a row lock, not a table lock: ADR 0025).
(A module of its own: the test commits for real.)"""

import pytest
from django.db import connection

from aishang.core.testing import at_once, make_company, make_project
from aishang.meters.allocation_runs import allocation_preview
from aishang.meters.models import AllocationRun, AllocationShare

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule


@pytest.mark.django_db(transaction=True)
def test_two_previews_replacing_their_drafts_at_once_both_store_their_shares():
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL; SQLite takes its one write lock at BEGIN")
    project = make_project(make_company())
    delivered_units(project, 3)
    rules = []
    for name in ("公区照明", "电梯"):
        shared = meter(project, role="public", name=name)
        read(shared, 30)
        rules.append(rule(project, shared))

    def preview(shared):
        return lambda: allocation_preview(rule=shared, period_start=OCTOBER[0], period_end=OCTOBER[1], actor=None)

    for shared in rules:
        preview(shared)()

    previewed, errors = at_once(*(preview(shared) for shared in rules))

    assert not errors and len(previewed) == 2
    assert set(AllocationRun.objects.values_list("pk", flat=True)) == {run.pk for run in previewed}
    assert AllocationShare.objects.count() == 6
