"""催缴 from two jobs at the same moment on PostgreSQL: each unit is reminded once and counted once, by one of them.
(A module of its own: the test commits for real, which the other aging tests' shared ledger must not see.)"""

import datetime
import threading

import pytest
from django.db import connection, connections

from aishang.billing import reports
from aishang.billing.reports import ReportFilters
from aishang.billing.tests.test_reports_aging import _many_units
from aishang.notifications.models import Message


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_the_same_moment_on_postgresql_remind_each_unit_once():
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL; SQLite takes its one write lock at BEGIN")
    finance, units = _many_units(12)
    filters = ReportFilters(as_of=datetime.date(2026, 10, 31))
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            start.wait()
            results.append(reports.arrears_remind(user=finance, filters=filters, actor=finance))
        except Exception as exc:  # reported below: the test must see it, not the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors and len(results) == 2
    assert sum(result.queued for result in results) == len(units)
    assert sum(result.already for result in results) == len(units)
    assert Message.objects.filter(template_code="arrears_reminder").count() == len(units)
