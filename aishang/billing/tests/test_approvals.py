import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from aishang.billing.approvals import (
    approval_decide,
    approval_flows_install_defaults,
    approval_refusal,
    approval_request_create,
)
from aishang.billing.balances import bill_outstanding, bills_with_outstanding
from aishang.billing.choices import ChargeMethod
from aishang.billing.models import (
    Account,
    ApprovalAction,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    Bill,
    BillVoid,
    BindingTarget,
    ChargeRule,
    FeeItem,
    JournalEntry,
    Posting,
    RuleBinding,
    Waiver,
)
from aishang.billing.payments import Tender, payment_collect
from aishang.billing.services import bill_run_create, bill_run_post
from aishang.core.money import money_total
from aishang.core.testing import make_company, make_project, make_role, make_staff, make_unit

pytestmark = pytest.mark.django_db

WAIVER, VOID = ApprovalAction.WAIVER, ApprovalAction.VOID


@pytest.fixture
def company():
    company = make_company()
    approval_flows_install_defaults(company)
    return company


@pytest.fixture
def project(company):
    return make_project(company, name="阳光花园")


@pytest.fixture
def staff(company, project):
    return {code: make_staff(company, code) for code in ("cashier", "finance", "admin")}


def post_bill(project, amount="1200.00"):
    unit = make_unit(project)
    fee_item, _ = FeeItem.objects.get_or_create(company=project.company, code="WY", defaults={"name": "物业费"})
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name=f"固定 {amount}",
                                     method=ChargeMethod.FIXED, unit_price=Decimal(amount),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.UNIT, unit=unit)
    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=datetime.date(2026, 11, 1)))
    return Bill.objects.get(rule=rule)


def balance(project, account):
    return money_total(Posting.objects.filter(project=project, account=account))


def assert_entries_balance():
    for entry in Posting.objects.values("entry").annotate(total=Sum("amount")):
        assert entry["total"] == 0


def test_a_waiver_by_a_cashier_approved_by_finance_writes_the_waiver_and_a_balanced_entry(project, staff):
    bill = post_bill(project)
    receivable = balance(project, Account.RECEIVABLE)

    request = approval_request_create(action=WAIVER, bill=bill, amount="300.50", reason="漏水影响使用",
                                      actor=staff["cashier"])
    assert request.status == ApprovalStatus.PENDING and [step["level"] for step in request.route] == [1]
    request = approval_decide(request=request, actor=staff["finance"], approve=True, comment="")

    assert request.status == ApprovalStatus.APPROVED
    waiver = Waiver.objects.get(bill=bill)
    assert waiver.amount == Decimal("300.50") and waiver.request == request
    entry = JournalEntry.objects.get(event="waiver_approved")
    assert sorted((p.account, p.fee_item_id, p.amount) for p in entry.postings.all()) == sorted([
        (Account.WAIVER, bill.fee_item_id, Decimal("300.50")),
        (Account.RECEIVABLE, bill.fee_item_id, Decimal("-300.50")),
    ])
    assert_entries_balance()
    assert bill_outstanding(bill) == Decimal("899.50")
    assert bills_with_outstanding(Bill.objects.filter(pk=bill.pk)).get().outstanding == Decimal("899.50")
    assert balance(project, Account.RECEIVABLE) == receivable - Decimal("300.50")
    bill.refresh_from_db()
    assert bill.amount == Decimal("1200.00")


def test_the_requester_cannot_approve_their_own_request(company, project, staff):
    bill = post_bill(project)
    finance = staff["finance"]
    request = approval_request_create(action=WAIVER, bill=bill, amount="100", reason="老人优惠", actor=finance)

    with pytest.raises(ValidationError, match="不能审批自己提交的申请"):
        approval_decide(request=request, actor=finance, approve=True)

    assert not ApprovalStep.objects.exists() and not Waiver.objects.exists()
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_a_waiver_above_500_needs_both_levels_by_different_people(company, project, staff):
    bill = post_bill(project)
    request = approval_request_create(action=WAIVER, bill=bill, amount="500.01", reason="重大维修",
                                      actor=staff["cashier"])
    assert [step["level"] for step in request.route] == [1, 2]

    with pytest.raises(ValidationError, match="第 1 级"):
        approval_decide(request=request, actor=staff["admin"], approve=True)
    request = approval_decide(request=request, actor=staff["finance"], approve=True)

    assert request.status == ApprovalStatus.PENDING and request.current_level == 2
    assert not Waiver.objects.exists() and not JournalEntry.objects.filter(event="waiver_approved").exists()

    request = approval_decide(request=request, actor=staff["admin"], approve=True)

    assert request.status == ApprovalStatus.APPROVED
    assert Waiver.objects.get().amount == Decimal("500.01")
    assert list(request.steps.values_list("level", "decided_by")) == [(1, staff["finance"].pk), (2, staff["admin"].pk)]


def test_one_person_holding_both_roles_decides_only_one_level(company, project, staff):
    bill = post_bill(project)
    both = make_staff(company, "admin")
    both.roles.add(company.roles.get(code="finance"))
    request = approval_request_create(action=WAIVER, bill=bill, amount="800", reason="重大维修",
                                      actor=staff["cashier"])
    approval_decide(request=request, actor=both, approve=True)

    with pytest.raises(ValidationError, match="不同的人"):
        approval_decide(request=request, actor=both, approve=True)


def test_a_rejection_needs_a_comment_and_writes_nothing(project, staff):
    bill = post_bill(project)
    request = approval_request_create(action=WAIVER, bill=bill, amount="100", reason="投诉补偿",
                                      actor=staff["cashier"])

    with pytest.raises(ValidationError, match="驳回须填写理由"):
        approval_decide(request=request, actor=staff["finance"], approve=False, comment="  ")
    assert not ApprovalStep.objects.exists()

    request = approval_decide(request=request, actor=staff["finance"], approve=False, comment="证据不足")

    assert request.status == ApprovalStatus.REJECTED
    assert request.steps.get().comment == "证据不足"
    assert not Waiver.objects.exists() and not JournalEntry.objects.exclude(event="bills_posted").exists()
    assert bill_outstanding(bill) == Decimal("1200.00")
    with pytest.raises(ValidationError, match="已驳回"):
        approval_decide(request=request, actor=staff["admin"], approve=True)


def test_a_void_after_a_waiver_voids_the_rest_and_journals_revenue_against_receivable(company, project, staff):
    bill = post_bill(project)
    waiver = approval_request_create(action=WAIVER, bill=bill, amount="200", reason="补偿", actor=staff["cashier"])
    approval_decide(request=waiver, actor=staff["finance"], approve=True)
    revenue = balance(project, Account.REVENUE)

    void = approval_request_create(action=VOID, bill=bill, reason="重复出账", actor=staff["cashier"])
    assert void.amount == Decimal("1000.00") and [step["level"] for step in void.route] == [1, 2]
    approval_decide(request=void, actor=staff["finance"], approve=True)
    assert not BillVoid.objects.exists()
    approval_decide(request=void, actor=staff["admin"], approve=True)

    assert BillVoid.objects.get(bill=bill).amount == Decimal("1000.00")
    assert bill_outstanding(bill) == Decimal("0.00")
    entry = JournalEntry.objects.get(event="bill_voided")
    assert sorted((p.account, p.amount) for p in entry.postings.all()) == sorted([
        (Account.REVENUE, Decimal("1000.00")), (Account.RECEIVABLE, Decimal("-1000.00"))])
    assert balance(project, Account.REVENUE) == revenue + Decimal("1000.00")
    assert balance(project, Account.RECEIVABLE) == Decimal("0.00")
    assert_entries_balance()
    with pytest.raises(ValidationError, match="已作废"):
        approval_request_create(action=WAIVER, bill=bill, amount="1", reason="再减", actor=staff["cashier"])


def test_what_a_payment_void_reopens_on_a_voided_bill_can_be_waived_or_paid_but_not_voided_again(project, staff):
    bill = post_bill(project)
    payment = payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", Decimal("200.00"))],
                              actor=staff["cashier"])
    void = approval_request_create(action=VOID, bill=bill, reason="重复", actor=staff["cashier"])
    approval_decide(request=void, actor=staff["finance"], approve=True)
    approval_decide(request=void, actor=staff["admin"], approve=True)
    payment_void = approval_request_create(action=ApprovalAction.PAYMENT_VOID, payment=payment, reason="收错",
                                           actor=staff["cashier"])
    while payment_void.is_pending:
        approver = next(person for person in (staff["finance"], staff["admin"])
                        if not approval_refusal(payment_void, person))
        payment_void = approval_decide(request=payment_void, actor=approver, approve=True)
    assert bill_outstanding(bill) == Decimal("200.00")

    with pytest.raises(ValidationError, match="不能再次作废"):
        approval_request_create(action=VOID, bill=bill, reason="再作废", actor=staff["cashier"])
    waiver = approval_request_create(action=WAIVER, bill=bill, amount="50", reason="补偿", actor=staff["cashier"])
    approval_decide(request=waiver, actor=staff["finance"], approve=True)
    payment_collect(project=project, bill_ids=[bill.pk], tenders=[Tender("cash", Decimal("150.00"))],
                    actor=staff["cashier"])

    assert bill_outstanding(bill) == Decimal("0.00")
    assert BillVoid.objects.filter(bill=bill).count() == 1
    assert_entries_balance()


@pytest.mark.parametrize("amount, message", [("1200.01", "不能超过"), ("0", "大于 0"), ("-5", "大于 0"),
                                             ("1.005", "两位小数"), ("abc", "正确的金额")])
def test_a_bad_waiver_amount_is_refused(project, staff, amount, message):
    bill = post_bill(project)

    with pytest.raises(ValidationError, match=message):
        approval_request_create(action=WAIVER, bill=bill, amount=amount, reason="补偿", actor=staff["cashier"])

    assert not ApprovalRequest.objects.exists()


def test_a_reason_is_required_and_a_second_pending_request_is_refused(project, staff):
    bill = post_bill(project)
    with pytest.raises(ValidationError, match="申请原因"):
        approval_request_create(action=WAIVER, bill=bill, amount="10", reason=" ", actor=staff["cashier"])
    approval_request_create(action=WAIVER, bill=bill, amount="10", reason="补偿", actor=staff["cashier"])

    with pytest.raises(ValidationError, match="已有待审批"):
        approval_request_create(action=WAIVER, bill=bill, amount="20", reason="再补偿", actor=staff["finance"])


def test_an_approval_after_the_outstanding_shrank_is_refused_and_writes_nothing(project, staff):
    bill = post_bill(project)
    waiver = approval_request_create(action=WAIVER, bill=bill, amount="1000", reason="补偿", actor=staff["cashier"])
    void = approval_request_create(action=VOID, bill=bill, reason="重复", actor=staff["cashier"])
    approval_decide(request=void, actor=staff["finance"], approve=True)
    approval_decide(request=void, actor=staff["admin"], approve=True)
    approval_decide(request=waiver, actor=staff["finance"], approve=True)

    with pytest.raises(ValidationError, match="已作废"):
        approval_decide(request=waiver, actor=staff["admin"], approve=True)

    assert not Waiver.objects.exists()
    assert ApprovalRequest.objects.get(pk=waiver.pk).current_level == 2


# Pages


@pytest.fixture
def requester(company, project):
    cashier = make_staff(company, "cashier", projects=[project])
    cashier.roles.add(make_role(company, ["billing.add_approvalrequest", "billing.view_bill"]))
    return cashier


def test_a_waiver_goes_from_the_bill_page_through_the_inbox_to_approval(client, company, project, staff, requester):
    bill = post_bill(project)
    client.force_login(requester)
    page = client.get(f"/billing/bills/{bill.pk}/")
    assert page.status_code == 200 and "申请减免" in page.content.decode()

    response = client.post(f"/billing/bills/{bill.pk}/approvals/waiver/", {"amount": "88.80", "reason": "投诉补偿"})
    request = ApprovalRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/billing/approvals/{request.pk}/"
    assert "投诉补偿" in client.get(request.get_absolute_url()).content.decode()
    assert client.post(f"/billing/approvals/{request.pk}/decide/", {"decision": "approve"}).status_code == 302
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING

    client.force_login(staff["finance"])
    inbox = client.get("/billing/approvals/").content.decode()
    assert "¥88.80" in inbox and bill.unit.code in inbox
    missing_comment = client.post(f"/billing/approvals/{request.pk}/decide/", {"decision": "reject"})
    assert missing_comment.status_code == 302 and ApprovalRequest.objects.get().status == ApprovalStatus.PENDING
    client.post(f"/billing/approvals/{request.pk}/decide/", {"decision": "approve", "comment": "同意"})

    assert ApprovalRequest.objects.get().status == ApprovalStatus.APPROVED
    assert bill_outstanding(bill) == Decimal("1111.20")
    detail = client.get(request.get_absolute_url()).content.decode()
    assert "已通过" in detail and "同意" in detail


def test_a_bad_amount_on_the_page_answers_a_message_not_an_error(client, project, requester):
    bill = post_bill(project)
    client.force_login(requester)

    response = client.post(f"/billing/bills/{bill.pk}/approvals/waiver/", {"amount": "5000", "reason": "补偿"},
                           follow=True)

    assert response.status_code == 200 and "不能超过" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_another_projects_request_is_404_in_the_inbox_and_the_detail(client, company, project, staff):
    other = make_project(company, name="别的项目")
    bill = post_bill(other)
    request = approval_request_create(action=WAIVER, bill=bill, amount="10", reason="补偿", actor=staff["cashier"])
    finance_here = make_staff(company, "finance", projects=[project])
    client.force_login(finance_here)

    assert request.get_absolute_url() not in client.get("/billing/approvals/").content.decode()
    assert client.get(request.get_absolute_url()).status_code == 404
    assert client.post(f"/billing/approvals/{request.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert client.get(f"/billing/bills/{bill.pk}/").status_code == 404
    assert not ApprovalStep.objects.exists()


def test_requesting_needs_the_permission(client, company, project):
    bill = post_bill(project)
    client.force_login(make_staff(company, "technician"))

    response = client.post(f"/billing/bills/{bill.pk}/approvals/waiver/", {"amount": "10", "reason": "补偿"})

    assert response.status_code == 403 and not ApprovalRequest.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the insert-only trigger is PostgreSQL's")
def test_postgresql_refuses_to_change_a_waiver_row(project, staff):
    from django.db import DatabaseError, transaction

    bill = post_bill(project)
    request = approval_request_create(action=WAIVER, bill=bill, amount="10", reason="补偿", actor=staff["cashier"])
    approval_decide(request=request, actor=staff["finance"], approve=True)

    with pytest.raises(DatabaseError, match="insert-only"), transaction.atomic():
        Waiver.objects.update(amount=1)


def test_a_new_company_starts_with_the_default_approval_flows():
    from aishang.billing.models import ApprovalFlow

    fresh = make_company()

    assert set(ApprovalFlow.objects.filter(company=fresh).values_list("action", flat=True)) >= {"waiver", "void"}


# Approvers are told when a request reaches them; the requester when it is decided


def pending_notices(**filters):
    from aishang.notifications.models import Message

    return Message.objects.filter(template_code="approval_pending", channel="in_app", **filters)


def test_submitting_tells_each_approver_of_level_1_once_in_their_inbox(company, project, staff):
    from aishang.notifications.models import Message

    other_project = make_project(company, name="别的项目")
    finance_here = make_staff(company, "finance", projects=[project])
    make_staff(company, "finance", projects=[other_project])  # another project's finance: not told
    retired = make_staff(company, "finance")
    retired.is_active = False
    retired.save()
    requester = make_staff(company, "finance")  # holds the level's role but cannot decide their own request

    request = approval_request_create(action=WAIVER, bill=post_bill(project), amount="300", reason="漏水影响使用",
                                      actor=requester)

    notices = pending_notices(params__link=request.get_absolute_url())
    assert sorted(notices.values_list("recipient_user", flat=True)) == sorted([staff["finance"].pk, finance_here.pk])
    notice = notices.get(recipient_user=finance_here)
    assert notice.title == "减免申请待您审批" and notice.project == project and notice.status == "pending"
    assert "第1级（财务）" in notice.body and "300.00" in notice.body and "漏水影响使用" in notice.body
    assert Message.objects.count() == 2  # nobody here has an e-mail address: nothing else is queued


def test_the_notice_is_delivered_after_commit_and_links_to_the_request(client, company, project, staff,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = approval_request_create(action=WAIVER, bill=post_bill(project), amount="50", reason="补偿",
                                          actor=staff["cashier"])
        assert pending_notices().get().status == "pending"
    for callback in callbacks:
        callback()

    notice = pending_notices().get()
    assert notice.status == "sent" and notice.recipient_user == staff["finance"]
    client.force_login(staff["finance"])
    page = client.get(f"/notifications/inbox/{notice.pk}/").content.decode()
    assert f'href="{request.get_absolute_url()}"' in page


def test_approving_level_1_tells_the_approvers_of_level_2_and_nobody_twice(company, project, staff):
    from aishang.billing.approvals import approval_notify_approvers

    both = make_staff(company, "finance")
    both.roles.add(company.roles.get(code="admin"))
    request = approval_request_create(action=WAIVER, bill=post_bill(project), amount="800", reason="重大维修",
                                      actor=staff["cashier"])
    level_1 = set(pending_notices().values_list("recipient_user", flat=True))
    assert level_1 == {staff["finance"].pk, both.pk}

    request = approval_decide(request=request, actor=both, approve=True)
    approval_notify_approvers(request)
    approval_notify_approvers(request)

    level_2 = pending_notices().filter(params__level=2)
    # ``both`` decided level 1, so may not decide level 2 and is not asked to.
    assert list(level_2.values_list("recipient_user", flat=True)) == [staff["admin"].pk]
    assert "第2级（管理员）" in level_2.get().body
    assert pending_notices().count() == 3


def test_the_requester_is_told_when_the_request_is_approved(project, staff):
    from aishang.notifications.models import Message

    request = approval_request_create(action=VOID, bill=post_bill(project), reason="重复出账", actor=staff["cashier"])
    approval_decide(request=request, actor=staff["finance"], approve=True)
    assert not Message.objects.filter(recipient_user=staff["cashier"]).exists()

    approval_decide(request=request, actor=staff["admin"], approve=True)

    told = Message.objects.get(recipient_user=staff["cashier"])
    assert (told.template_code, told.channel, told.title) == ("approval_approved", "in_app", "作废申请已通过")
    assert told.params["link"] == request.get_absolute_url()


def test_the_requester_is_told_the_reason_of_a_rejection(project, staff):
    from aishang.notifications.models import Message

    request = approval_request_create(action=WAIVER, bill=post_bill(project), amount="100", reason="老人优惠",
                                      actor=staff["cashier"])

    approval_decide(request=request, actor=staff["finance"], approve=False, comment="不符合减免标准")

    told = Message.objects.get(recipient_user=staff["cashier"])
    assert told.template_code == "approval_rejected" and told.title == "减免申请被驳回"
    assert "不符合减免标准" in told.body and str(staff["finance"]) in told.body


def test_staff_with_an_e_mail_address_are_also_told_by_e_mail(project, staff):
    from aishang.notifications.models import Message

    staff["finance"].email = "finance@example.com"
    staff["finance"].save()

    approval_request_create(action=WAIVER, bill=post_bill(project), amount="100", reason="补偿",
                            actor=staff["cashier"])

    assert sorted(Message.objects.filter(recipient_user=staff["finance"]).values_list("channel", "address")) == [
        ("email", "finance@example.com"), ("in_app", "")]


def test_a_company_may_reword_the_notice(project, staff):
    from aishang.core.testing import make_message_template

    make_message_template(project.company, "approval_pending", title="【待办】{action} {amount}元")

    approval_request_create(action=WAIVER, bill=post_bill(project), amount="66", reason="补偿", actor=staff["cashier"])

    assert pending_notices().get().title == "【待办】减免 66.00元"


def test_a_request_by_the_platform_operator_tells_the_approvers_and_decides_without_telling_the_operator(
        project, staff):
    from aishang.notifications.models import Message
    from aishang.users.models import User

    operator = User.objects.create_superuser("operator", password="Passw0rd!2026")
    request = approval_request_create(action=WAIVER, bill=post_bill(project), amount="10", reason="补偿",
                                      actor=operator)

    approval_decide(request=request, actor=staff["finance"], approve=True)

    assert list(pending_notices().values_list("recipient_user", flat=True)) == [staff["finance"].pk]
    assert not Message.objects.filter(recipient_user=operator).exists()
