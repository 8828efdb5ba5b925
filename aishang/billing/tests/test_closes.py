"""日结: a cashier's shift summed by method, closed once, and the next shift starting where the last one ended."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from aishang.billing.closes import (
    shift_cashier,
    shift_close,
    shift_close_queryset,
    shift_summary,
)
from aishang.billing.models import (
    ApprovalRequest,
    ApprovalStatus,
    PaymentMethod,
    PaymentReversal,
    ShiftClose,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import api_client, make_bill, make_company, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db

CASH, CARD, WECHAT, ALIPAY, PREPAID = (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.WECHAT,
                                       PaymentMethod.ALIPAY, PaymentMethod.PREPAID)


@pytest.fixture
def cashier(project):
    return make_staff(project.company, "cashier")


@pytest.fixture
def finance(project):
    return make_staff(project.company, "finance")


def cash(amount, tendered=None):
    return Tender(CASH, Decimal(amount), Decimal(tendered) if tendered else None)


def paid(method, amount):
    return Tender(method, Decimal(amount))


def pay(project, actor, *tenders):
    """One bill of exactly the tenders' total, paid by ``actor`` with them."""
    bill = make_bill(project, str(sum(tender.amount for tender in tenders)))
    return payment_collect(project=project, bill_ids=[bill.pk], tenders=list(tenders), actor=actor)


def reverse_payment(payment, amount, method, approver, kind="refund"):
    """A void or refund approved last by ``approver``, written as the approval service writes it."""
    request = ApprovalRequest.objects.create(
        company_id=payment.company_id, project=payment.project, payment=payment, amount=Decimal(amount),
        action="refund" if kind == "refund" else "payment_void", refund_method=method, reason="业主多缴",
        status=ApprovalStatus.APPROVED, requested_by=payment.cashier, decided_at=timezone.now())
    return PaymentReversal.objects.create(project=payment.project, payment=payment, kind=kind, request=request,
                                          amount=Decimal(amount), method=method, created_by=approver)


def lines(summary_lines):
    return {line.method: (line.count, line.amount) for line in summary_lines}


def test_the_open_shift_sums_each_method_exactly_with_the_change_given(project, cashier):
    unit = make_unit(project)
    bill = make_bill(project, "12.34", unit=unit)
    pay(project, cashier, cash("100.10", tendered="200.00"), paid(WECHAT, "0.20"))
    pay(project, cashier, cash("0.20"), paid(ALIPAY, "911106.93"))
    pay(project, cashier, paid(CARD, "55.55"))
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[cash("30.00", tendered="50.00")],
                    actor=cashier)
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[paid(PREPAID, "12.34")], actor=cashier)
    pay(project, make_staff(project.company, "cashier"), cash("999.99"))  # another cashier's shift

    summary = shift_summary(cashier)

    assert summary.payment_count == 5
    assert [line.method for line in summary.methods] == [CASH, CARD, WECHAT, ALIPAY, PREPAID]
    assert lines(summary.methods) == {CASH: (3, Decimal("130.30")), CARD: (1, Decimal("55.55")),
                                      WECHAT: (1, Decimal("0.20")), ALIPAY: (1, Decimal("911106.93")),
                                      PREPAID: (1, Decimal("12.34"))}
    assert summary.total == Decimal("911305.32")
    assert summary.money_in == Decimal("911292.98")
    assert summary.change_given == Decimal("119.90")
    assert summary.cash_tendered == Decimal("250.20")
    assert summary.cash_expected == Decimal("130.30")
    assert summary.totals_by_method == {"cash": "130.30", "card": "55.55", "wechat": "0.20", "alipay": "911106.93",
                                        "prepaid": "12.34"}
    assert summary.period_start is None


def test_a_close_keeps_the_shifts_figures_and_the_handed_over_cash(project, cashier):
    pay(project, cashier, cash("80.00", tendered="100.00"), paid(WECHAT, "20.00"))

    close = shift_close(cashier=cashier, cash_handed_over="80.00", actor=cashier)

    close.refresh_from_db()
    assert (close.payment_count, close.total, close.cash_expected, close.cash_handed_over) == (
        1, Decimal("100.00"), Decimal("80.00"), Decimal("80.00"))
    assert close.totals_by_method == {"cash": "80.00", "wechat": "20.00"}
    assert (close.company_id, close.closed_by, close.period_start) == (project.company_id, cashier, None)
    assert close.closed_at == close.period_end


def test_a_refund_after_a_close_falls_in_the_next_shift_and_only_cash_refunds_reduce_the_cash(project, cashier,
                                                                                                 finance):
    first = pay(project, cashier, cash("300.00"))
    second = pay(project, cashier, paid(WECHAT, "50.00"))
    closed = shift_close(cashier=cashier, cash_handed_over="300.00", actor=cashier)

    reverse_payment(first, "120.00", CASH, cashier)
    reverse_payment(second, "50.00", PREPAID, cashier, kind="void")
    reverse_payment(first, "10.00", CASH, finance)  # approved last by finance: money out of finance's shift
    pay(project, cashier, cash("200.00"))

    summary = shift_summary(cashier)
    assert summary.period_start == closed.period_end
    assert (summary.payment_count, summary.reversal_count) == (1, 2)
    assert lines(summary.reversals) == {CASH: (1, Decimal("120.00")), PREPAID: (1, Decimal("50.00"))}
    assert summary.reversals_total == Decimal("170.00")
    assert summary.cash_refunded == Decimal("120.00")
    assert summary.cash_expected == Decimal("80.00")
    assert shift_summary(finance).cash_expected == Decimal("-10.00")
    closed.refresh_from_db()
    assert (closed.payment_count, closed.reversals_total, closed.cash_expected) == (2, 0, Decimal("300.00"))


def test_a_second_close_starts_where_the_first_ended(project, cashier):
    pay(project, cashier, cash("10.00"))
    first = shift_close(cashier=cashier, cash_handed_over="10.00", actor=cashier)
    pay(project, cashier, cash("25.50"))
    pay(project, cashier, paid(CARD, "4.50"))

    second = shift_close(cashier=cashier, cash_handed_over="25.50", actor=cashier)

    assert second.period_start == first.period_end < second.period_end
    assert (second.payment_count, second.total, second.cash_expected) == (2, Decimal("30.00"), Decimal("25.50"))
    assert list(ShiftClose.objects.filter(cashier=cashier).order_by("period_end")) == [first, second]


def test_an_empty_shift_is_refused_in_chinese(project, cashier):
    with pytest.raises(ValidationError, match="本班次还没有收款或退款，无需日结"):
        shift_close(cashier=cashier, cash_handed_over="0", actor=cashier)

    pay(project, cashier, cash("10.00"))
    shift_close(cashier=cashier, cash_handed_over="10.00", actor=cashier)
    with pytest.raises(ValidationError, match="无需日结"):
        shift_close(cashier=cashier, cash_handed_over="0.00", actor=cashier)
    assert ShiftClose.objects.count() == 1


def test_a_difference_between_expected_and_handed_over_cash_needs_a_note(project, cashier):
    pay(project, cashier, cash("100.00"))

    with pytest.raises(ValidationError) as refused:
        shift_close(cashier=cashier, cash_handed_over="99.50", note="  ", actor=cashier)
    assert refused.value.message_dict == {"note": ["实交现金与应交现金相差 -¥0.50，请填写说明"]}
    assert not ShiftClose.objects.exists()

    close = shift_close(cashier=cashier, cash_handed_over="99.50", note="找零时少收五角", actor=cashier)
    assert (close.cash_expected, close.cash_handed_over, close.note) == (Decimal("100.00"), Decimal("99.50"),
                                                                         "找零时少收五角")


@pytest.mark.parametrize(("amount", "message"), [("", "请输入实交现金金额"), ("abc", "请输入实交现金金额"),
                                                 ("1.234", "金额最多两位小数"), ("-1", "不能为负数"),
                                                 ("NaN", "金额最多两位小数")])
def test_a_bad_amount_is_refused_at_its_field(project, cashier, amount, message):
    pay(project, cashier, cash("1.00"))

    with pytest.raises(ValidationError) as refused:
        shift_close(cashier=cashier, cash_handed_over=amount, actor=cashier)

    assert message in refused.value.message_dict["cash_handed_over"][0]
    assert not ShiftClose.objects.exists()


def test_a_payment_after_the_summary_that_was_checked_refuses_the_close(project, cashier):
    pay(project, cashier, cash("10.00"))
    checked = shift_summary(cashier)
    pay(project, cashier, cash("5.00"))

    with pytest.raises(ValidationError, match="又有新的收款或退款"):
        shift_close(cashier=cashier, cash_handed_over="10.00", actor=cashier, seen_until=checked.period_end)

    close = shift_close(cashier=cashier, cash_handed_over="15.00", actor=cashier,
                        seen_until=shift_summary(cashier).period_end)
    assert close.payment_count == 2


def test_a_cashier_sees_and_closes_only_their_own_shift_and_finance_every_colleagues_in_scope(project, cashier,
                                                                                              finance):
    colleague = make_staff(project.company, "cashier")
    pay(project, cashier, cash("10.00"))
    pay(project, colleague, cash("20.00"))
    own = shift_close(cashier=cashier, cash_handed_over="10.00", actor=cashier)

    assert shift_cashier(cashier, colleague.pk) is None
    with pytest.raises(ValidationError, match="只能为自己日结"):
        shift_close(cashier=colleague, cash_handed_over="20.00", actor=cashier)

    theirs = shift_close(cashier=colleague, cash_handed_over="20.00", actor=finance)

    assert theirs.closed_by == finance and theirs.cashier == colleague
    assert list(shift_close_queryset(cashier)) == [own]
    assert set(shift_close_queryset(colleague)) == {theirs}
    assert set(shift_close_queryset(finance)) == {own, theirs}
    outsider = make_staff(make_company(), "finance")
    assert not shift_close_queryset(outsider).exists()
    assert shift_cashier(outsider, colleague.pk) is None


def test_a_project_scoped_finance_clerk_sees_the_closes_of_colleagues_on_the_same_project(project, cashier):
    other_project = make_project(project.company)
    on_site = make_staff(project.company, "cashier", projects=[project])
    elsewhere = make_staff(project.company, "cashier", projects=[other_project])
    clerk = make_staff(project.company, "finance", projects=[project])
    for person in (on_site, elsewhere):
        pay(project, person, cash("1.00"))
        shift_close(cashier=person, cash_handed_over="1.00", actor=person)

    assert [close.cashier for close in shift_close_queryset(clerk)] == [on_site]
    assert shift_cashier(clerk, elsewhere.pk) is None


# Pages


def test_the_shift_page_shows_the_totals_and_the_close_leads_to_the_printable_slip(client, project, cashier):
    pay(project, cashier, cash("100.00", tendered="150.00"), paid(WECHAT, "23.45"))
    client.force_login(cashier)
    page = client.get(reverse("billing:shift_open"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "¥123.45" in html and "¥50.00" in html and 'data-testid="cash-expected">¥100.00<' in html

    response = client.post(reverse("billing:shift_open"), {
        "cash_handed_over": "100.00", "seen_until": page.context["form"].initial["seen_until"]})

    close = ShiftClose.objects.get()
    assert response.url == reverse("billing:shiftclose_detail", args=[close.pk])
    slip = client.get(response.url).content.decode()
    assert "收银日结单" in slip and "人民币壹佰元整" in slip and "@media print" in slip
    assert 'data-testid="slip-total">¥123.45<' in slip and "微信" in slip
    listing = client.get(reverse("billing:shiftclose_list")).content.decode()
    assert reverse("billing:shiftclose_detail", args=[close.pk]) in listing
    menu = client.get(reverse("billing:desk")).content.decode()
    assert reverse("billing:shift_open") in menu


def test_a_difference_without_a_note_is_shown_at_the_note_and_nothing_is_closed(client, project, cashier):
    pay(project, cashier, cash("100.00"))
    client.force_login(cashier)

    response = client.post(reverse("billing:shift_open"), {"cash_handed_over": "90"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"note": ["实交现金与应交现金相差 -¥10.00，请填写说明"]}
    assert not ShiftClose.objects.exists()


def test_pages_keep_other_cashiers_shifts_out_of_reach(client, project, cashier, finance):
    colleague = make_staff(project.company, "cashier")
    pay(project, colleague, cash("20.00"))
    theirs = shift_close(cashier=colleague, cash_handed_over="20.00", actor=colleague)
    pay(project, colleague, cash("7.00"))
    client.force_login(cashier)

    assert client.get(reverse("billing:shift_open"), {"cashier": colleague.pk}).status_code == 404
    assert client.get(reverse("billing:shiftclose_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("billing:shift_open"), {"cashier": colleague.pk,
                                                       "cash_handed_over": "7.00"}).status_code == 404

    client.force_login(finance)
    page = client.get(reverse("billing:shift_open"), {"cashier": colleague.pk})
    assert page.status_code == 200 and page.context["summary"].cash_expected == Decimal("7.00")
    assert client.get(reverse("billing:shiftclose_detail", args=[theirs.pk])).status_code == 200
    client.force_login(make_staff(project.company, "service"))
    assert client.get(reverse("billing:shift_open")).status_code == 403


# API


def test_the_api_shows_the_open_shift_closes_it_and_lists_the_callers_closes(project, cashier):
    pay(project, cashier, cash("88.80", tendered="100.00"), paid(ALIPAY, "11.20"))
    client = api_client(cashier)

    shift = client.get("/api/v1/shift/").json()
    assert (shift["payment_count"], shift["total"], shift["cash_expected"], shift["change_given"]) == (
        1, "100.00", "88.80", "11.20")
    assert [(line["method"], line["count"], line["amount"]) for line in shift["methods"]] == [
        ("cash", 1, "88.80"), ("alipay", 1, "11.20")]

    refused = client.post("/api/v1/shift-closes/", {"cash_handed_over": "80.00"}, format="json")
    assert refused.status_code == 400 and "请填写说明" in refused.json()["note"][0]
    created = client.post("/api/v1/shift-closes/", {"cash_handed_over": "88.80", "seen_until": shift["period_end"]},
                          format="json")
    assert created.status_code == 201, created.content
    assert created.json()["totals_by_method"] == {"cash": "88.80", "alipay": "11.20"}
    assert created.json()["difference"] == "0.00"
    again = client.post("/api/v1/shift-closes/", {"cash_handed_over": "0"}, format="json")
    assert again.status_code == 400 and "无需日结" in str(again.json())
    listed = client.get("/api/v1/shift-closes/").json()["results"]
    assert [row["id"] for row in listed] == [created.json()["id"]]


def test_the_api_keeps_a_cashier_to_their_own_shift(project, cashier, finance):
    colleague = make_staff(project.company, "cashier")
    pay(project, colleague, cash("5.00"))
    client = api_client(cashier)

    assert client.get("/api/v1/shift/", {"cashier": colleague.pk}).status_code == 404
    refused = client.post("/api/v1/shift-closes/", {"cashier": colleague.pk, "cash_handed_over": "5.00"},
                          format="json")
    assert refused.status_code == 400 and not ShiftClose.objects.exists()

    finance_client = api_client(finance)
    assert finance_client.get("/api/v1/shift/", {"cashier": colleague.pk}).json()["cash_expected"] == "5.00"
    closed = finance_client.post("/api/v1/shift-closes/", {"cashier": colleague.pk, "cash_handed_over": "5.00"},
                                 format="json")
    assert closed.status_code == 201 and closed.json()["closed_by"] == finance.pk
    assert client.get(f"/api/v1/shift-closes/{closed.json()['id']}/").status_code == 404
    assert api_client(colleague).get(f"/api/v1/shift-closes/{closed.json()['id']}/").status_code == 200


# PostgreSQL: two closes at once, and a payment written while a close runs.


def _at_once(*actions):
    """Run each action on its own connection, released together; returns (results, errors)."""
    barrier, results, errors = threading.Barrier(len(actions)), [], []

    def run(action):
        try:
            barrier.wait()
            results.append(action())
        except ValidationError as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_closes_of_the_same_cashier_at_once_close_the_shift_once(project, cashier, finance):
    pay(project, cashier, cash("60.00"))

    closes, errors = _at_once(lambda: shift_close(cashier=cashier, cash_handed_over="60.00", actor=cashier),
                              lambda: shift_close(cashier=cashier, cash_handed_over="60.00", actor=finance))

    assert len(closes) == 1 and len(errors) == 1 and "无需日结" in str(errors[0])
    assert ShiftClose.objects.filter(cashier=cashier).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_payment_still_being_written_when_the_close_starts_is_counted_in_that_close(project, cashier):
    pay(project, cashier, cash("1.00"))
    bill = make_bill(project, "2.00")

    def slow_payment():
        with transaction.atomic():
            payment = payment_collect(project=project, bill_ids=[bill.pk], tenders=[cash("2.00")], actor=cashier)
            time.sleep(0.6)  # stamped, not yet committed, while the close starts
        return payment

    def close_a_moment_later():
        time.sleep(0.2)
        return shift_close(cashier=cashier, cash_handed_over="3.00", actor=cashier)

    _results, errors = _at_once(slow_payment, close_a_moment_later)

    assert not errors
    close = ShiftClose.objects.get()
    assert (close.payment_count, close.cash_expected) == (2, Decimal("3.00"))
    assert shift_summary(cashier).is_empty


def test_a_tampered_page_is_answered_with_a_message_not_an_error(client, project, cashier):
    pay(project, cashier, cash("10.00"))
    client.force_login(cashier)

    response = client.post(reverse("billing:shift_open"), {"cash_handed_over": "10.00",
                                                           "seen_until": "2026-13-45T99:00:00"})

    assert response.status_code == 400 and "页面已过期" in response.content.decode()
    assert not ShiftClose.objects.exists()


def test_prepaid_and_deposit_refunds_are_money_handed_back_in_the_shift_of_whoever_approved_them_last(
        project, cashier, finance):
    from aishang.billing.approvals import approval_decide, approval_request_create
    from aishang.billing.deposits import deposit_collect
    from aishang.billing.payments import prepaid_account

    unit = make_unit(project)
    payment_collect(project=project, unit=unit, bill_ids=[], tenders=[cash("300.00")], actor=cashier)
    deposit = deposit_collect(project=project, unit=unit, kind="装修押金", actor=cashier, tenders=[cash("1000.00")])
    requests = [
        approval_request_create(action="prepaid_refund", prepaid_account=prepaid_account(unit), amount="120.00",
                                refund_method=CASH, reason="搬家", actor=cashier),
        approval_request_create(action="deposit_refund", deposit=deposit, amount="1000.00", refund_method=WECHAT,
                                reason="装修验收", actor=cashier),
    ]
    for request in requests:
        while request.is_pending:
            approver = finance if request.current_role.code == "finance" else make_staff(project.company, "admin")
            request = approval_decide(request=request, actor=approver, approve=True)

    handed_back = shift_summary(finance)
    assert lines(handed_back.reversals) == {CASH: (1, Decimal("120.00")), WECHAT: (1, Decimal("1000.00"))}
    assert (handed_back.reversal_count, handed_back.reversals_total) == (2, Decimal("1120.00"))
    assert handed_back.cash_expected == Decimal("-120.00")
    assert shift_summary(cashier).reversals == []
