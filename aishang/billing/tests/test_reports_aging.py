"""欠费账龄 computed in the database equals the arrears worked out bill by bill from their definition, on a varied
ledger (part payments, discounts, waivers, bill voids, refunds that reopen bills, late-fee bills, bills of customers
without a unit, bills not yet due, another project out of scope), today and at an earlier day, filtered by project,
building and fee item; pages, sorting and the export read the bills once; and 催缴 for many units runs as a job,
from the page and the API, once per unit and channel a day even when two runs overlap.
"""

import datetime
import io
import random
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aishang.billing import reports, views_reports
from aishang.billing.balances import bill_outstanding
from aishang.billing.models import (
    Allocation,
    Bill,
    BillDiscount,
    BillKind,
    BillVoid,
    DiscountScheme,
    ReversalKind,
    Waiver,
)
from aishang.billing.reports import ArrearsOrder, ReportFilters
from aishang.billing.tests.test_reports import Ledger, LedgerWriter
from aishang.core.testing import (
    api_client,
    make_building,
    make_company,
    make_customer,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)
from aishang.extras.models import Job
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
BUCKETS = [key for key, *_rest in reports.AGING_BUCKETS]


def _moment(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _month(day, back):
    month = day.year * 12 + day.month - 1 - back
    return datetime.date(month // 12, month % 12 + 1, 1)


class VariedLedger(LedgerWriter):
    """Thirty months of bills for two fee items in eight units of two buildings, a customer's own bills without a
    unit, a few in a second project and in a third one the finance clerk may not see; each bill gets, at random
    (seeded) and in time order, a discount, a full or part payment, a refund or void of that payment (reopening the
    bill), a waiver, a bill void, or a late-fee bill."""

    def __init__(self, seed=2026):
        company = make_company()
        super().__init__(company, make_project(company, name="阳光花园"))
        self.rng, self.today = random.Random(seed), timezone.localdate()
        self.second, self.hidden = make_project(company, name="湖畔"), make_project(company, name="不可见")
        self.finance = make_staff(company, "finance", projects=[self.project, self.second])
        self.cashier = make_staff(company, "cashier")
        self.buildings = [make_building(self.project, code=code) for code in ("1", "2")]
        self.units = [make_unit(self.project, building=self.buildings[i % 2], number=f"{i + 1}01") for i in range(8)]
        self.payers = {unit.pk: make_owner(unit) for unit in self.units}
        self.property_fee = make_fee_item(company, name="物业费")
        self.parking_fee = make_fee_item(company, name="停车费")
        self.scheme = DiscountScheme.objects.create(company=company, name="九折", kind="amount",
                                                    amount=Decimal("1.00"), valid_from=_month(self.today, 40))
        for unit in self.units:
            for back in range(30, -2, -1):  # up to next month: its bills are not due yet
                self.history(unit, self.property_fee, _month(self.today, back),
                             Decimal(self.rng.randint(15000, 42000)) / 100)
                if self.rng.random() < 0.6:
                    self.history(unit, self.parking_fee, _month(self.today, back), Decimal("150.00"))
        customer = make_customer(self.project, name="商户甲")
        for back in range(14, 0, -1):
            self.history(None, self.parking_fee, _month(self.today, back), Decimal("88.80"), payer=customer)
        # 59.79 paid as 29.90 + 29.89 owes exactly nothing (SQLite sums decimals as floats).
        exact = self.bill(self.units[0], self.parking_fee, _month(self.today, 3), "59.79", payer=self.payers[
            self.units[0].pk])
        for part, days in (("29.90", 20), ("29.89", 25)):
            self.pay(self.units[0], _moment(exact.period_start + datetime.timedelta(days=days)), self.cashier,
                     [("cash", part)], [(exact, part)])
        second_unit = make_unit(self.second, number="9901")
        self.payers[second_unit.pk] = make_owner(second_unit)
        for back in range(6, 0, -1):
            self.history(second_unit, self.property_fee, _month(self.today, back), Decimal("321.00"),
                         project=self.second)
        hidden_unit = make_unit(self.hidden, number="0001")
        for back in range(6, 0, -1):
            self.bill(hidden_unit, self.property_fee, _month(self.today, back), "777.00", project=self.hidden,
                      payer=self.payers[self.units[0].pk])

    def history(self, unit, fee_item, month, amount, *, payer=None, project=None):
        """One bill and what happened to it, event by event in time order, never taking off more than it owed."""
        rng, today = self.rng, self.today
        project = project or self.project
        payer = payer or self.payers[unit.pk]
        bill = self.bill(unit, fee_item, month, f"{amount:.2f}", payer=payer, project=project)
        owed = bill.amount

        def when(days):
            day = bill.due_date + datetime.timedelta(days=days)
            return _moment(day) if day < today else None

        if rng.random() < 0.15:
            discount = (owed / 10).quantize(CENT)
            BillDiscount.objects.create(project=project, bill=bill, scheme=self.scheme, amount=discount,
                                        created_at=_moment(month))
            owed -= discount
        draw = rng.random()
        paid_at = when(rng.randint(-20, 200))
        if paid_at and draw < 0.7:
            part = owed if draw < 0.55 else (owed * Decimal(rng.randint(30, 70)) / 100).quantize(CENT)
            payment = self.pay(unit, paid_at, self.cashier, [("cash", f"{part:.2f}")], [(bill, f"{part:.2f}")],
                               project=project)
            owed -= part
            back_at = paid_at + datetime.timedelta(days=rng.randint(1, 90))
            if rng.random() < 0.15 and back_at.date() < today:
                kind = rng.choice([ReversalKind.REFUND, ReversalKind.VOID])
                taken = part if kind == ReversalKind.VOID or rng.random() < 0.5 else (part / 2).quantize(CENT)
                self.reverse(payment, kind, f"{taken:.2f}", "cash", back_at, "收错", [(bill, f"{taken:.2f}")])
                owed += taken
        later = when(rng.randint(60, 400))
        if later and owed > 0 and rng.random() < 0.08:
            waived = (owed / 3).quantize(CENT)
            self.correct(Waiver, bill, f"{waived:.2f}", later, "漏水补偿")
            owed -= waived
        latest = when(rng.randint(200, 500))
        if latest and owed > 0 and rng.random() < 0.05:
            self.correct(BillVoid, bill, f"{owed:.2f}", latest, "重复出账")
            owed = Decimal("0")
        if owed > 0 and bill.due_date < today - datetime.timedelta(days=30) and rng.random() < 0.1 and unit:
            self.bill(unit, fee_item, month, f"{owed * Decimal('0.03'):.2f}", payer=payer, project=project,
                      kind=BillKind.LATE_FEE, due_date=today - datetime.timedelta(days=rng.randint(1, 40)))
        return bill


def reference(bills, as_of):
    """The arrears straight from their definition, bill by bill in Python: {(unit, payer): row}."""
    until = _moment(as_of + datetime.timedelta(days=1), 0)
    groups = {}
    for bill in bills.filter(due_date__lte=as_of):
        if as_of >= timezone.localdate():
            owed = bill_outstanding(bill)
        else:
            taken = [row.amount for model in (BillDiscount, Waiver, BillVoid)
                     for row in model.objects.filter(bill=bill) if row.created_at < until]
            taken += [row.amount for row in Allocation.objects.filter(bill=bill).select_related("payment", "reversal")
                      if (row.reversal.created_at if row.reversal_id else row.payment.received_at) < until]
            owed = bill.amount - sum(taken, Decimal("0"))
        if owed <= 0:
            continue
        key = (bill.unit_id, None) if bill.unit_id else (None, bill.payer_id)
        row = groups.setdefault(key, {"total": Decimal("0"), "bill_count": 0, "oldest_due": bill.due_date,
                                      **dict.fromkeys(BUCKETS, Decimal("0"))})
        days = (as_of - bill.due_date).days
        bucket = next(key for key, _label, low, high in reports.AGING_BUCKETS if high is None or days <= high)
        row["total"] += owed
        row[bucket] += owed
        row["bill_count"] += 1
        row["oldest_due"] = min(row["oldest_due"], bill.due_date)
    return groups


def _computed(table):
    rows = table.page_rows(table.rows)
    return {(row["unit_id"], row["subject_payer"]): {key: row[key] for key in ("total", "bill_count", "oldest_due",
                                                                             *BUCKETS)} for row in rows}


@pytest.fixture(scope="module")
def varied_db(django_db_setup, django_db_blocker):
    """The varied ledger, written once for the module (it takes a few seconds) and removed at the end."""
    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield VariedLedger()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def varied(varied_db):
    return varied_db


CASES = {
    "everything in scope": lambda ledger: {},
    "one project": lambda ledger: {"project": ledger.project},
    "one building": lambda ledger: {"building": ledger.buildings[1]},
    "one fee item": lambda ledger: {"fee_item": ledger.parking_fee},
    "project and fee item": lambda ledger: {"project": ledger.project, "fee_item": ledger.property_fee},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("days_back", [0, 75])
def test_the_database_computes_what_each_bill_owes_as_defined(varied, case, days_back):
    as_of = timezone.localdate() - datetime.timedelta(days=days_back)
    fields = CASES[case](varied)
    bills = Bill.objects.filter(project__in=[varied.project, varied.second])
    for name, value in fields.items():
        bills = bills.filter(**{"unit__building" if name == "building" else name: value})

    table = reports.arrears_report(varied.finance, ReportFilters(as_of=as_of, **fields))

    expected = reference(bills, as_of)
    assert len(expected) > 3  # the case has arrears to compare
    assert _computed(table) == expected
    assert table.totals["total"] == sum((row["total"] for row in expected.values()), Decimal("0"))
    assert table.totals["bill_count"] == sum(row["bill_count"] for row in expected.values())
    for bucket in BUCKETS:
        assert table.totals[bucket] == sum((row[bucket] for row in expected.values()), Decimal("0"))
    assert table.extra["subjects"] == len(expected)


def test_the_ledger_is_as_varied_as_it_claims(varied):
    bills = Bill.objects.filter(project=varied.project)
    assert BillDiscount.objects.filter(bill__in=bills).exists() and Waiver.objects.filter(bill__in=bills).exists()
    assert BillVoid.objects.filter(bill__in=bills).exists()
    assert Allocation.objects.filter(bill__in=bills, amount__lt=0, reversal__kind=ReversalKind.REFUND).exists()
    assert Allocation.objects.filter(bill__in=bills, amount__lt=0, reversal__kind=ReversalKind.VOID).exists()
    assert bills.filter(kind=BillKind.LATE_FEE).exists() and bills.filter(unit__isnull=True).exists()
    assert bills.filter(due_date__gt=timezone.localdate()).exists()
    owed = [bill_outstanding(bill) for bill in bills.filter(allocations__isnull=False).distinct()[:300]]
    assert any(amount > 0 for amount in owed) and any(amount == 0 for amount in owed)


def test_rows_come_sorted_and_paged_with_totals_of_the_whole_filter(varied):
    table = reports.arrears_report(varied.finance, ReportFilters())
    everything = table.page_rows(table.rows)

    paged = []
    for start in range(0, len(everything), 4):
        fresh = reports.arrears_report(varied.finance, ReportFilters())
        fresh.rows.prefetch(start, start + 4)
        paged += fresh.page_rows(fresh.rows[start:start + 4])
        assert fresh.totals["total"] == table.totals["total"] and fresh.rows.count() == len(everything)

    assert [row["total"] for row in everything] == sorted((row["total"] for row in everything), reverse=True)
    assert [(row["unit_id"], row["subject_payer"]) for row in paged] == [
        (row["unit_id"], row["subject_payer"]) for row in everything]
    oldest = reports.arrears_report(varied.finance, ReportFilters(order=ArrearsOrder.OLDEST))
    dues = [row["oldest_due"] for row in oldest.page_rows(oldest.rows)]
    assert dues == sorted(dues) and len(dues) == len(everything)


def test_chunks_stream_every_row_and_add_up_the_same_totals(varied):
    table = reports.arrears_report(varied.finance, ReportFilters())
    expected, totals = table.page_rows(table.rows), dict(table.totals)

    streamed = reports.arrears_report(varied.finance, ReportFilters())
    rows = [row for chunk in streamed.rows.chunks(3) for row in streamed.page_rows(chunk)]

    assert [(row["unit_id"], row["total"]) for row in rows] == [(row["unit_id"], row["total"]) for row in expected]
    assert dict(streamed.totals) == totals and streamed.rows.count() == len(expected)


def _aggregations(queries):
    return [query for query in queries if "GROUP BY o.unit_id" in query["sql"]]


def test_a_page_and_an_export_each_read_the_bills_once(client, varied):
    client.force_login(varied.finance)
    url = reverse("billing:report", args=["arrears"])

    with CaptureQueriesContext(connection) as page:
        response = client.get(url)
    with CaptureQueriesContext(connection) as export:
        exported = client.get(url, {"export": "xlsx"})

    assert response.status_code == 200 and len(_aggregations(page.captured_queries)) == 1
    assert len(response.context["rows"]) == response.context["page"].paginator.count > 3
    assert len(_aggregations(export.captured_queries)) == 1
    sheet = load_workbook(io.BytesIO(exported.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    totals = response.context["table"].totals
    assert len(lines) == 2 + response.context["page"].paginator.count
    assert lines[-1][0] == "合计" and Decimal(str(lines[-1][-1])) == totals["total"]


def test_a_page_number_past_the_end_shows_the_last_page(client, varied):
    client.force_login(varied.finance)

    response = client.get(reverse("billing:report", args=["arrears"]), {"page": "9" * 30})
    api = api_client(varied.finance).get("/api/v1/reports/arrears/", {"page": "9" * 30})

    assert response.status_code == 200 and response.context["page"].number == 1
    assert len(response.context["rows"]) == response.context["page"].paginator.count > 3
    assert api.status_code == 200 and api.json()["results"] == [] and api.json()["count"] > 3


def test_a_bad_sort_is_refused_at_its_field(client, varied):
    client.force_login(varied.finance)

    response = client.get(reverse("billing:report", args=["arrears"]), {"order": "nonsense"})

    assert response.status_code == 400
    assert "选择一个有效的选项" in response.context["form"].errors["order"][0]
    bad = api_client(varied.finance).get("/api/v1/reports/arrears/", {"order": "nonsense"})
    assert bad.status_code == 400 and "选择一个有效的选项" in bad.json()["order"][0]


# 催缴 as a job


@pytest.fixture
def ledger():
    return Ledger()


@pytest.fixture
def finance(ledger):
    return make_staff(ledger.company, "finance", projects=[ledger.project])


def test_reminding_every_unit_in_the_filter_runs_as_a_job_shown_on_the_page(client, ledger, finance):
    client.force_login(finance)
    querystring = urlencode({"as_of": "2026-10-31"})

    response = client.post(reverse("billing:report_arrears_remind"),
                           {"querystring": querystring, "select_all_matching": "1"})

    job = Job.objects.get(kind=reports.REMIND_JOB)
    assert response.status_code == 302 and response["Location"].endswith(f"?as_of=2026-10-31&job={job.pk}")
    assert job.status == "succeeded" and job.created_by == finance
    assert job.result == {"queued": 1, "already": 0, "unreachable": 1} and (job.done, job.total) == (2, 2)
    assert job.params["as_of"] == "2026-10-31"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'data-testid="remind-job"' in html and 'data-status="succeeded"' in html
    assert "已加入发送队列" in html and "今天已催缴过（户）" in html and "无缴费人或手机号（户）" in html
    assert f'value="{querystring}"' in html  # a second 催缴 from here does not carry the job along
    assert Message.objects.filter(template_code="arrears_reminder").count() == 2
    polled = client.get(reverse("extras:job_detail", args=[job.pk]), headers={"HX-Request": "true",
                                                                             "HX-Target": "job-status"})
    assert "已加入发送队列" in polled.content.decode()


def test_ticking_more_units_than_a_request_should_carry_also_starts_a_job(client, ledger, finance, monkeypatch):
    monkeypatch.setattr(views_reports, "REMIND_IN_REQUEST", 1)
    client.force_login(finance)

    client.post(reverse("billing:report_arrears_remind"), {
        "querystring": urlencode({"as_of": "2026-10-31"}),
        "pk": [ledger.unit1.pk, ledger.unit2.pk, "x", "99999999999999999999999"]})

    job = Job.objects.get(kind=reports.REMIND_JOB)
    assert sorted(job.params["unit_ids"]) == sorted([ledger.unit1.pk, ledger.unit2.pk])
    assert job.result == {"queued": 1, "already": 0, "unreachable": 1}


def test_another_users_job_is_not_shown(client, ledger, finance):
    other = make_staff(ledger.company, "finance", projects=[ledger.project])
    job = reports.arrears_remind_start(filters=ReportFilters(as_of=datetime.date(2026, 10, 31)),
                                       actor=other)
    client.force_login(finance)

    html = client.get(reverse("billing:report", args=["arrears"]), {"job": job.pk}).content.decode()

    assert 'data-testid="remind-job"' not in html
    for nonsense in ("abc", "9" * 30):
        assert client.get(reverse("billing:report", args=["arrears"]), {"job": nonsense}).status_code == 200


def test_the_api_starts_the_job_and_its_status_shows_the_result(ledger, finance):
    client = api_client(finance)

    started = client.post("/api/v1/reports/arrears/remind/", {"all": True, "as_of": "2026-10-31"}, format="json")
    again = client.post("/api/v1/reports/arrears/remind/", {"units": [ledger.unit1.pk], "as_of": "2026-10-31"},
                        format="json")

    assert started.status_code == 202 and started["Location"] == f"/api/v1/jobs/{started.json()['id']}/"
    status = client.get(started["Location"]).json()
    assert status["kind"] == "arrears_remind" and status["status"] == "succeeded"
    assert status["result"] == {"queued": 1, "already": 0, "unreachable": 1}
    assert client.get(again["Location"]).json()["result"] == {"queued": 0, "already": 1, "unreachable": 0}
    assert Message.objects.filter(template_code="arrears_reminder").count() == 2


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, "units", "请选择要催缴的房屋，或传 all=true 催缴筛选出的全部房屋"),
    ({"units": ["abc"]}, "units", "房屋 id 须为正整数"),
    ({"units": [99999999999999999999999]}, "units", "房屋 id 须为正整数"),
    ({"units": "1,2"}, "units", "请填写房屋 id 的列表"),
    ({"all": "maybe"}, "all", "请填写 true 或 false"),
    ({"all": True, "as_of": "2026-02-30"}, "as_of", "请按 2026-11-23 的格式填写日期"),
    ({"all": True, "project": "999999"}, "project", "选择一个有效的选项"),
])
def test_the_api_refuses_bad_input_at_its_field_and_starts_nothing(ledger, finance, body, field, message):
    response = api_client(finance).post("/api/v1/reports/arrears/remind/", body, format="json")

    assert response.status_code == 400
    errors = response.json()[field]
    assert any(message in str(error) for error in (errors if isinstance(errors, list) else errors.values()))
    assert not Job.objects.exists() and not Message.objects.exists()


def test_only_who_may_read_bills_and_payments_may_remind(ledger):
    steward = make_staff(ledger.company, "steward")  # reads bills, not payments

    response = api_client(steward).post("/api/v1/reports/arrears/remind/", {"all": True}, format="json")

    assert response.status_code == 403 and not Job.objects.exists()
    assert api_client().post("/api/v1/reports/arrears/remind/", {"all": True}, format="json").status_code == 401


def _many_units(count=6):
    company = make_company()
    project = make_project(company)
    fee_item = make_fee_item(company)
    units = []
    for number in range(count):
        unit = make_unit(project, number=f"{number + 1}01")
        Bill.objects.create(project=project, unit=unit, fee_item=fee_item, payer=make_owner(unit),
                            period_start=datetime.date(2026, 9, 1), period_end=datetime.date(2026, 9, 30),
                            due_date=datetime.date(2026, 9, 15), amount=Decimal(f"{100 + number}.00"))
        units.append(unit)
    return make_staff(company, "finance", projects=[project]), units


def test_two_runs_that_overlap_remind_each_unit_once_and_count_it_once(monkeypatch):
    """The second run starts while the first is between two chunks: each unit gets one message, queued by one run
    and counted as already reminded by the other."""
    finance, units = _many_units()
    monkeypatch.setattr(reports, "REMINDER_CHUNK", 2)
    filters = ReportFilters(as_of=datetime.date(2026, 10, 31))
    second = {}

    def progress(done, total):
        if done == 2 and not second:
            second["result"] = reports.arrears_remind(user=finance, filters=filters, actor=finance)

    first = reports.arrears_remind(user=finance, filters=filters, actor=finance, progress=progress)

    other = second["result"]
    assert first.queued + other.queued == len(units) and first.queued == 2
    assert first.already + other.already == len(units) and first.unreachable == other.unreachable == 0
    assert Message.objects.filter(template_code="arrears_reminder").count() == len(units)
