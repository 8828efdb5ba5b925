"""Two clerks post overlapping drafts of one rule at the same moment on PostgreSQL: one is posted, the other refused.
(A module of its own: the test commits for real.)"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from aishang.core.testing import at_once, make_company, make_project, make_staff
from aishang.meters.allocation_runs import allocation_post, allocation_preview
from aishang.meters.models import AllocationRun

from .allocation_factories import delivered_units, meter, read, rule


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_drafts_posted_at_once_leave_one_posted_run():
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL; SQLite takes its one write lock at BEGIN")
    project = make_project(make_company())
    delivered_units(project, 3)
    lighting = meter(project, role="public")
    read(lighting, 30)
    shared = rule(project, lighting)
    finance = make_staff(project.company, "finance")
    drafts = [allocation_preview(rule=shared, period_start=datetime.date(2026, 10, day),
                                 period_end=datetime.date(2026, 10, 31), actor=finance) for day in (1, 2)]
    posted, errors = at_once(*(lambda run=run: allocation_post(run=run, actor=finance) for run in drafts))
    refused = [error for error in errors if isinstance(error, ValidationError)]

    assert len(posted) == 1 and len(refused) == 1 and len(errors) == 1
    assert "已有已入账的分摊批次" in refused[0].messages[0]
    assert AllocationRun.objects.filter(status="posted").count() == 1
