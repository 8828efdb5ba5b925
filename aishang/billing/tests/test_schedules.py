"""定时出账: a schedule starts each month's run once, on its day or the first day after, and the pages edit it."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from aishang.billing.choices import ChargeMethod
from aishang.billing.models import Bill, BillRun, BillRunSchedule, BindingTarget, ChargeRule, FeeItem, RuleBinding
from aishang.billing.services import schedule_next_run
from aishang.billing.tasks import start_scheduled_runs
from aishang.core.testing import make_company, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule():
    project = make_project(make_company())
    make_unit(project, area="100.00")
    fee_item = FeeItem.objects.create(company=project.company, code="WY", name="物业费")
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                     method=ChargeMethod.BUILDING_AREA, unit_price=Decimal("1.80"),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return rule


@pytest.fixture
def schedule(rule):
    schedule = BillRunSchedule.objects.create(project=rule.project, name="每月 5 日出物业费", day_of_month=5)
    schedule.rules.set([rule])
    return schedule


def test_nothing_runs_before_the_day(schedule):
    assert start_scheduled_runs("2026-12-04") == []
    assert not BillRun.objects.exists()


def test_on_its_day_the_schedule_posts_this_months_run_once(schedule, settings):
    settings.JOBS_RUN_INLINE = True

    jobs = start_scheduled_runs("2026-12-05")
    again = start_scheduled_runs("2026-12-06")

    run = BillRun.objects.get()
    assert (run.period_month, run.status, run.bill_count) == (datetime.date(2026, 12, 1), "posted", 1)
    assert len(jobs) == 1 and again == []
    assert Bill.objects.get().amount == Decimal("180.00")
    schedule.refresh_from_db()
    assert schedule.last_period_month == datetime.date(2026, 12, 1)
    assert schedule_next_run(schedule, datetime.date(2026, 12, 6)) == datetime.date(2027, 1, 5)


def test_a_missed_day_is_caught_up_and_a_stopped_schedule_does_nothing(schedule, settings):
    settings.JOBS_RUN_INLINE = True
    assert schedule_next_run(schedule, datetime.date(2026, 12, 20)) == datetime.date(2026, 12, 20)

    start_scheduled_runs("2026-12-20")
    assert BillRun.objects.count() == 1

    schedule.is_active = False
    schedule.save()
    start_scheduled_runs("2027-01-05")
    assert BillRun.objects.count() == 1


# The scheduler closes stale connections between tasks as a long-lived process must, which needs a test
# outside the usual per-test transaction.
@pytest.mark.django_db(transaction=True)
@override_settings(CELERY_BEAT_SCHEDULE={"runs": {"task": "billing.start_scheduled_runs", "schedule": 0}},
                   JOBS_RUN_INLINE=True)
def test_the_embedded_scheduler_runs_beats_tasks_in_process(schedule, monkeypatch):
    schedule.day_of_month, schedule.last_period_month = 1, None  # due on any day of this month
    schedule.save()

    def stop(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("aishang.core.management.commands.scheduler.time.sleep", stop)

    with pytest.raises(KeyboardInterrupt):
        call_command("scheduler")

    assert BillRun.objects.get(project=schedule.project).status == "posted"


def test_finance_sets_up_a_schedule_from_the_page(client, rule):
    client.force_login(make_staff(rule.project.company, "finance"))
    other = make_project(rule.project.company, name="别的项目")
    other_rule = ChargeRule.objects.create(project=other, fee_item=rule.fee_item, name="别的标准",
                                           unit_price=Decimal("1"), effective_from=datetime.date(2020, 1, 1))

    refused = client.post("/billing/runs/schedules/add/", {"project": rule.project.pk, "name": "错的",
                                                          "rules": [other_rule.pk], "day_of_month": 31})
    saved = client.post("/billing/runs/schedules/add/", {"project": rule.project.pk, "name": "每月 1 日",
                                                        "rules": [rule.pk], "day_of_month": 1, "is_active": "on"})

    assert refused.status_code == 400 and not BillRunSchedule.objects.filter(name="错的").exists()
    schedule = BillRunSchedule.objects.get()
    assert saved["Location"] == f"/billing/runs/schedules/{schedule.pk}/"
    assert list(schedule.rules.all()) == [rule]
    page = client.get(saved["Location"]).content.decode()
    assert 'data-testid="next-run">' in page and "住宅物业费" in page


def test_a_cashier_cannot_edit_schedules(client, schedule):
    client.force_login(make_staff(schedule.project.company, "cashier"))

    assert client.get("/billing/runs/schedules/add/").status_code in (403, 404)


def test_a_schedule_made_after_its_day_starts_next_month(rule):
    today = timezone.localdate()
    made = BillRunSchedule.objects.create(project=rule.project, name="每月 1 日", day_of_month=1)

    # This month was billed by hand before the schedule existed, unless today is the 1st itself.
    assert made.last_period_month == (today.replace(day=1) if today.day > 1 else None)
    assert schedule_next_run(made, today) == (today if today.day == 1 else
                                              (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1))
