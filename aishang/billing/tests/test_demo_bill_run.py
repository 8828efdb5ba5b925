import datetime

import pytest
from django.db.models import Count

from aishang.billing import services
from aishang.billing.models import Account, Bill, BillDiscount, ChargeRule, Posting
from aishang.billing.reconcile import reconcile
from aishang.billing.services import bill_run_create, bill_run_post, bill_run_preview
from aishang.core.demo import demo_delete, demo_install
from aishang.core.money import money_total

pytestmark = pytest.mark.django_db


def test_a_bill_run_over_the_demo_company_killed_half_way_and_restarted_matches_its_preview(monkeypatch):
    company = demo_install().company
    runs = [bill_run_create(project=project, rules=ChargeRule.objects.filter(project=project),
                            period_month=datetime.date(2026, 11, 1)) for project in company.projects.all()]
    previews = {run.pk: bill_run_preview(run) for run in runs}
    monkeypatch.setattr(services, "BATCH_SIZE", 500)
    real_post_batch, posted_batches = services._post_batch, []

    def killed_after_two_batches(*args, **kwargs):
        if len(posted_batches) == 2:
            raise SystemExit("worker killed")
        posted_batches.append(1)
        real_post_batch(*args, **kwargs)

    monkeypatch.setattr(services, "_post_batch", killed_after_two_batches)
    with pytest.raises(SystemExit):
        bill_run_post(runs[0])
    assert 0 < Bill.objects.count() < previews[runs[0].pk].count
    monkeypatch.setattr(services, "_post_batch", real_post_batch)

    for run in runs:
        bill_run_post(run)
        bill_run_post(run)

    duplicates = (Bill.objects.values("rule", "unit", "period_start").annotate(n=Count("pk")).filter(n__gt=1))
    assert not duplicates.exists()
    for run in runs:
        run.refresh_from_db()
        assert (run.bill_count, run.total_amount) == (previews[run.pk].count, previews[run.pk].total)
    assert sum(p.count for p in previews.values()) == Bill.objects.count() > 1700
    # The demo's seniors get 老年人九折 on their property fee, once each, as discount rows.
    discounts = BillDiscount.objects.all()
    assert discounts.count() == discounts.values("bill").distinct().count() > 0
    receivable = money_total(Posting.objects.filter(account=Account.RECEIVABLE))
    assert receivable == money_total(Bill.objects.all()) - money_total(discounts)
    assert reconcile(company.projects.all()).is_clean

    demo_delete(company)
    assert not Bill.objects.exists() and not Posting.objects.exists() and not BillDiscount.objects.exists()
