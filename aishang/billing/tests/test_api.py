import datetime
from decimal import Decimal

import pytest

from aishang.billing.balances import bill_outstanding
from aishang.billing.jobs import JOB_KIND
from aishang.billing.models import (
    ApprovalRequest,
    ApprovalStatus,
    Bill,
    BillRun,
    BillRunStatus,
    BillVoid,
    ChargeRule,
    FeeItem,
    JournalEntry,
    Waiver,
)
from aishang.core.testing import (
    api_client,
    make_bill,
    make_bill_void,
    make_building,
    make_charge_rule,
    make_company,
    make_fee_item,
    make_owner,
    make_project,
    make_role,
    make_staff,
    make_unit,
    make_waiver,
)
from aishang.core.tests.api_specs import (
    World,
    assert_crud_round_trip,
    company_admin,
    crud_routes,
    is_read_only,
    route_id,
)
from aishang.extras.choices import JobStatus
from aishang.extras.models import Job

pytestmark = pytest.mark.django_db

@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def project(company):
    return make_project(company, name="阳光花园")


@pytest.fixture
def staff(company):
    return {code: make_staff(company, code) for code in ("cashier", "finance", "admin")}


def grant(user, *permissions):
    """Give a user more than the built-in roles hold (the journal, the correction rows, deleting)."""
    user.roles.add(make_role(user.company, [f"billing.{codename}" for codename in permissions]))
    return user


def errors_at(response, field):
    assert response.status_code == 400, response.content
    return " ".join(response.json()[field])


# Setting up what is charged


@pytest.mark.parametrize("route", [r for r in crud_routes("billing") if not is_read_only(r)], ids=route_id)
def test_an_administrator_can_create_read_change_and_delete(route):
    world = World()
    assert_crud_round_trip(api_client(company_admin(world)), route, world)


def test_finance_sets_up_a_fee_item_and_a_rule_for_the_whole_project(company, project, staff):
    client = api_client(staff["finance"])

    fee_item = client.post("/api/v1/fee-items/", {"code": "WY", "name": "物业费", "rounding": "half_up"},
                           format="json")
    assert fee_item.status_code == 201, fee_item.content
    rule = client.post("/api/v1/charge-rules/", {
        "project": project.pk, "fee_item": fee_item.json()["id"], "name": "住宅物业费", "method": "building_area",
        "unit_price": "1.8000", "effective_from": "2026-01-01"}, format="json")
    assert rule.status_code == 201, rule.content
    binding = client.post("/api/v1/rule-bindings/", {"rule": rule.json()["id"], "target": "project"},
                          format="json")
    assert binding.status_code == 201, binding.content

    assert FeeItem.objects.get(pk=fee_item.json()["id"]).company == company
    detail = client.get(f"/api/v1/charge-rules/{rule.json()['id']}/").json()
    assert detail["unit_price"] == "1.8000"
    assert [b["target"] for b in detail["bindings"]] == ["project"]


def test_a_formula_with_an_unknown_variable_is_refused_at_the_field(project, staff):
    client = api_client(staff["finance"])
    fee_item = make_fee_item(project.company)

    response = client.post("/api/v1/charge-rules/", {
        "project": project.pk, "fee_item": fee_item.pk, "name": "公式收费", "method": "formula",
        "formula": "面积 * 单价 + 楼层", "effective_from": "2026-01-01"}, format="json")

    assert "未知的变量「楼层」" in errors_at(response, "formula")
    assert not ChargeRule.objects.filter(name="公式收费").exists()


def test_a_formula_using_known_variables_is_saved(project, staff):
    response = api_client(staff["finance"]).post("/api/v1/charge-rules/", {
        "project": project.pk, "fee_item": make_fee_item(project.company).pk, "name": "公式收费",
        "method": "formula", "formula": "面积 × 单价 × 月数", "effective_from": "2026-01-01"}, format="json")

    assert response.status_code == 201, response.content


def test_a_tier_table_that_does_not_rise_is_refused_at_the_field(project, staff):
    response = api_client(staff["finance"]).post("/api/v1/charge-rules/", {
        "project": project.pk, "fee_item": make_fee_item(project.company).pk, "name": "阶梯电费",
        "method": "tiered", "tiers": [[4800, "0.60"], [2520, "0.55"], [None, "0.85"]],
        "effective_from": "2026-01-01"}, format="json")

    assert "上限必须大于上一档" in errors_at(response, "tiers")


def test_a_rule_that_ends_before_it_starts_is_refused_at_the_field(project, staff):
    response = api_client(staff["finance"]).post("/api/v1/charge-rules/", {
        "project": project.pk, "fee_item": make_fee_item(project.company).pk, "name": "物业费", "method": "fixed",
        "effective_from": "2026-06-01", "effective_to": "2026-01-01"}, format="json")

    assert "失效日期不能早于生效日期" in errors_at(response, "effective_to")


def test_a_binding_without_its_target_is_refused_at_the_field(project, staff):
    rule = make_charge_rule(project, units=[])

    response = api_client(staff["finance"]).post("/api/v1/rule-bindings/", {"rule": rule.pk, "target": "building"},
                                              format="json")

    assert "请选择绑定的对象" in errors_at(response, "building")
    assert not rule.bindings.exists()


def test_a_binding_to_another_projects_building_is_refused(company, project, staff):
    rule = make_charge_rule(project, units=[])
    elsewhere = make_building(make_project(company))

    response = api_client(staff["finance"]).post("/api/v1/rule-bindings/", {
        "rule": rule.pk, "target": "building", "building": elsewhere.pk}, format="json")

    assert "不属于该收费标准的项目" in errors_at(response, "building")


def test_a_price_change_on_the_rules_first_day_is_refused(project, staff):
    rule = make_charge_rule(project, effective_from=datetime.date(2026, 1, 1))

    response = api_client(staff["finance"]).post("/api/v1/rule-prices/", {
        "rule": rule.pk, "effective_from": "2026-01-01", "unit_price": "2.0000"}, format="json")

    assert "须晚于收费标准的生效日期" in errors_at(response, "effective_from")


def test_a_fee_item_in_use_cannot_be_deleted(project, company):
    admin = grant(make_staff(company, "admin"), "delete_feeitem")
    rule = make_charge_rule(project)

    response = api_client(admin).delete(f"/api/v1/fee-items/{rule.fee_item_id}/")

    assert response.status_code == 409, response.content
    assert FeeItem.objects.filter(pk=rule.fee_item_id).exists()


# Bill runs


@pytest.fixture
def area_rule(project):
    building = make_building(project, code="1")
    for area in ("120.50", "98.33", "87.65"):
        make_owner(make_unit(project, building=building, area=area))
    make_unit(project, area="143.21")  # another building, and no owner
    return make_charge_rule(project, fee_item=make_fee_item(project.company, name="物业费"), price="1.80")


def create_run(client, project, rule, month="2026-11"):
    response = client.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [rule.pk], "period_month": month},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_preview_totals_are_what_posting_produces(project, staff, area_rule):
    client = api_client(staff["finance"])
    run = create_run(client, project, area_rule)

    preview = client.get(f"/api/v1/bill-runs/{run['id']}/preview/").json()
    posted = client.post(f"/api/v1/bill-runs/{run['id']}/post/")
    bills = client.get("/api/v1/bills/", {"run": run["id"]}).json()

    assert preview["count"] == 4
    assert preview["total"] == "809.44"  # 216.90 + 176.99 + 157.77 + 257.78, each rounded once
    assert [row["total"] for row in preview["by_fee_item"]] == ["809.44"]
    assert sorted(row["total"] for row in preview["by_building"]) == ["257.78", "551.66"]
    assert preview["warnings"] == ["1 套房屋没有缴费人（无业主或租户）"]
    assert posted.status_code == 202, posted.content
    assert posted.json()["status"] == "succeeded"
    assert posted["Location"] == f"/api/v1/jobs/{posted.json()['id']}/"
    assert bills["count"] == preview["count"]
    assert sum(Decimal(bill["amount"]) for bill in bills["results"]) == Decimal(preview["total"])
    assert client.get(f"/api/v1/bill-runs/{run['id']}/").json()["total_amount"] == "809.44"


def test_posting_a_run_twice_is_refused_and_creates_no_duplicate_bills(project, staff, area_rule):
    client = api_client(staff["finance"])
    run = create_run(client, project, area_rule)
    client.post(f"/api/v1/bill-runs/{run['id']}/post/")

    again = client.post(f"/api/v1/bill-runs/{run['id']}/post/")
    second_run = create_run(client, project, area_rule)
    client.post(f"/api/v1/bill-runs/{second_run['id']}/post/")

    assert again.status_code == 409
    assert "已出账" in again.json()["detail"]
    assert Bill.objects.filter(rule=area_rule).count() == 4
    assert BillRun.objects.get(pk=second_run["id"]).bill_count == 0


def test_a_run_being_posted_is_refused(project, staff, area_rule):
    client = api_client(staff["finance"])
    run = create_run(client, project, area_rule)
    BillRun.objects.filter(pk=run["id"]).update(status=BillRunStatus.POSTING)
    Job.objects.create(kind=JOB_KIND, title="出账", params={"run_id": run["id"]}, status=JobStatus.RUNNING)

    refused = client.post(f"/api/v1/bill-runs/{run['id']}/post/")

    assert refused.status_code == 409
    assert "正在出账" in refused.json()["detail"]
    assert not Bill.objects.exists()


def test_a_run_whose_posting_job_failed_is_posted_again_and_completed(project, staff, area_rule):
    client = api_client(staff["finance"])
    run = create_run(client, project, area_rule)
    BillRun.objects.filter(pk=run["id"]).update(status=BillRunStatus.POSTING)
    Job.objects.create(kind=JOB_KIND, title="出账", params={"run_id": run["id"]}, status=JobStatus.FAILED)

    resumed = client.post(f"/api/v1/bill-runs/{run['id']}/post/")

    assert resumed.status_code == 202, resumed.content
    assert BillRun.objects.get(pk=run["id"]).status == BillRunStatus.POSTED
    assert Bill.objects.filter(run_id=run["id"]).count() == 4


def test_a_run_needs_rules_of_its_own_project_and_a_sensible_month(company, project, staff, area_rule):
    client = api_client(staff["finance"])
    other_rule = make_charge_rule(make_project(company))

    wrong_project = client.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [other_rule.pk],
                                                       "period_month": "2026-11"}, format="json")
    far_future = client.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [area_rule.pk],
                                                    "period_month": "9999-12-01"}, format="json")

    assert "只能选择该项目的收费标准" in errors_at(wrong_project, "rules")
    assert "2100" in errors_at(far_future, "period_month")


def test_a_cashier_may_read_bills_but_not_start_a_run(project, staff, area_rule):
    client = api_client(staff["cashier"])

    assert client.get("/api/v1/bills/").status_code == 200
    assert client.post("/api/v1/bill-runs/", {"project": project.pk, "rules": [area_rule.pk],
                                              "period_month": "2026-11"}, format="json").status_code == 403


# Bills


def test_bill_amounts_are_exact_strings(project, staff):
    bill = make_bill(project, amount="1234567.89")
    make_waiver(bill, amount="0.10")
    make_waiver(bill, amount="0.20")

    row = api_client(staff["finance"]).get(f"/api/v1/bills/{bill.pk}/").json()

    assert (row["amount"], row["discounted"], row["waived"], row["voided"], row["outstanding"]) == \
        ("1234567.89", "0.00", "0.30", "0.00", "1234567.59")


def test_bills_are_filtered_by_status_and_period(project, staff):
    open_bill, waived, voided = make_bill(project), make_bill(project), make_bill(project, amount="80.00")
    make_waiver(waived, amount="1200.00")
    make_bill_void(voided)
    client = api_client(staff["finance"])

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/bills/", params).json()["results"]}

    assert ids(status="outstanding") == {open_bill.pk}
    assert ids(status="waived") == {waived.pk}
    assert ids(status="voided") == {voided.pk}
    assert ids(period_from="2026-11-01", period_to="2026-11-30") == {open_bill.pk, waived.pk, voided.pk}
    assert ids(period_from="2026-12-01") == set()


def test_a_bill_of_another_project_answers_404(company, project):
    mine, theirs = make_bill(project), make_bill(make_project(company))
    clerk = make_staff(company, "finance", projects=[project])

    client = api_client(clerk)

    assert client.get(f"/api/v1/bills/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/bills/{theirs.pk}/").status_code == 404


def test_a_user_without_the_permission_gets_403(company, project):
    make_bill(project)

    assert api_client(make_staff(company, "guard")).get("/api/v1/bills/").status_code == 403


@pytest.mark.parametrize("path", ["bills", "waivers", "bill-voids", "journal-entries", "approval-flows"])
def test_read_only_endpoints_refuse_writes(project, path):
    admin = grant(make_staff(project.company, "admin"),
                  *[f"{action}_{model}" for action in ("add", "change", "delete", "view")
                    for model in ("bill", "waiver", "billvoid", "journalentry", "approvalflow")])
    bill = make_bill(project)
    client = api_client(admin)

    assert client.post(f"/api/v1/{path}/", {"bill": bill.pk, "amount": "1.00"}, format="json").status_code == 405
    detail = f"/api/v1/{path}/{bill.pk}/"
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(detail, {"amount": "1.00"}, format="json").status_code in (404, 405)
    assert client.delete(f"/api/v1/bills/{bill.pk}/").status_code == 405
    assert Bill.objects.get(pk=bill.pk).amount == Decimal("1200.00")


# Waivers and voids through approvals


def submit(client, bill, action="waiver", amount=None, reason="住户困难，申请减免"):
    body = {"bill": bill.pk, "action": action, "reason": reason}
    if amount is not None:
        body["amount"] = amount
    return client.post("/api/v1/approval-requests/", body, format="json")


def decide(client, request_id, decision="approve", comment=""):
    return client.post(f"/api/v1/approval-requests/{request_id}/decide/", {"decision": decision, "comment": comment},
                       format="json")


def test_a_waiver_approved_at_every_level_writes_the_waiver_and_reduces_the_outstanding(project, staff):
    bill = make_bill(project, amount="1200.00")
    submitted = submit(api_client(staff["cashier"]), bill, amount="600.00")
    assert submitted.status_code == 201, submitted.content
    request_id = submitted.json()["id"]
    assert [step["role_name"] for step in submitted.json()["route"]] == ["财务", "管理员"]

    first = decide(api_client(staff["finance"]), request_id, comment="属实")
    inbox = api_client(staff["admin"]).get("/api/v1/approval-requests/", {"awaiting_me": "true"}).json()
    second = decide(api_client(staff["admin"]), request_id)

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending" and first.json()["current_level"] == 2
    assert [row["id"] for row in inbox["results"]] == [request_id]
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "approved"
    assert [step["decision"] for step in second.json()["steps"]] == ["approve", "approve"]
    assert Waiver.objects.get(bill=bill).amount == Decimal("600.00")
    assert bill_outstanding(bill) == Decimal("600.00")
    row = api_client(staff["finance"]).get(f"/api/v1/bills/{bill.pk}/").json()
    assert (row["waived"], row["outstanding"]) == ("600.00", "600.00")
    waivers = api_client(grant(staff["admin"], "view_waiver")).get("/api/v1/waivers/", {"bill": bill.pk}).json()
    assert [waiver["amount"] for waiver in waivers["results"]] == ["600.00"]


def test_the_requester_cannot_approve_their_own_request(project, staff):
    bill = make_bill(project)
    client = api_client(staff["finance"])
    request_id = submit(client, bill, amount="100.00").json()["id"]

    response = decide(client, request_id)

    assert response.status_code == 403
    assert response.json()["detail"] == "不能审批自己提交的申请"
    assert ApprovalRequest.objects.get(pk=request_id).status == ApprovalStatus.PENDING
    assert not Waiver.objects.exists()


def test_a_rejection_needs_a_comment(project, staff):
    request_id = submit(api_client(staff["cashier"]), make_bill(project), amount="100.00").json()["id"]

    response = decide(api_client(staff["finance"]), request_id, decision="reject")

    assert "驳回须填写理由" in errors_at(response, "comment")


def test_a_waiver_above_the_outstanding_is_refused_at_the_amount(project, staff):
    bill = make_bill(project, amount="100.00")

    response = submit(api_client(staff["cashier"]), bill, amount="100.01")

    assert "不能超过账单未结金额" in errors_at(response, "amount")
    assert not ApprovalRequest.objects.exists()


def test_a_waiver_needs_an_amount(project, staff):
    response = submit(api_client(staff["cashier"]), make_bill(project))

    assert "请填写减免金额" in errors_at(response, "amount")


def test_a_void_approved_by_both_levels_voids_what_is_outstanding(project, staff):
    bill = make_bill(project, amount="300.00")
    make_waiver(bill, amount="50.00")
    request_id = submit(api_client(staff["cashier"]), bill, action="void", reason="重复出账").json()["id"]

    decide(api_client(staff["finance"]), request_id)
    decide(api_client(staff["admin"]), request_id)

    assert BillVoid.objects.get(bill=bill).amount == Decimal("250.00")
    row = api_client(staff["finance"]).get(f"/api/v1/bills/{bill.pk}/").json()
    assert (row["waived"], row["voided"], row["outstanding"]) == ("50.00", "250.00", "0.00")


def test_the_requester_withdraws_a_pending_request(project, staff):
    client = api_client(staff["cashier"])
    request_id = submit(client, make_bill(project), amount="100.00").json()["id"]

    withdrawn = client.post(f"/api/v1/approval-requests/{request_id}/withdraw/")
    too_late = decide(api_client(staff["finance"]), request_id)

    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn"
    assert too_late.status_code == 409


def test_a_cashier_lists_only_their_own_requests(project, staff):
    other_cashier = make_staff(project.company, "cashier")
    mine = submit(api_client(staff["cashier"]), make_bill(project), amount="10.00").json()["id"]
    submit(api_client(other_cashier), make_bill(project), amount="10.00")

    listed = api_client(staff["cashier"]).get("/api/v1/approval-requests/").json()

    assert [row["id"] for row in listed["results"]] == [mine]


def test_the_approval_flows_are_listed_with_their_levels(staff):
    flows = api_client(staff["finance"]).get("/api/v1/approval-flows/", {"action": "waiver"}).json()["results"]

    assert [(level["role_name"], level["min_amount"]) for level in flows[0]["levels"]] == \
        [("财务", None), ("管理员", "500.01")]


# The journal


def test_journal_entries_are_listed_with_postings_that_balance(project, staff):
    bill = make_bill(project, amount="88.80")
    make_waiver(bill, amount="8.80")
    client = api_client(grant(staff["finance"], "view_journalentry"))

    entries = client.get("/api/v1/journal-entries/", {"project": project.pk}).json()["results"]

    assert {entry["event"] for entry in entries} == {"bills_posted", "waiver_approved"}
    for entry in entries:
        assert sum(Decimal(p["amount"]) for p in entry["postings"]) == 0
    assert JournalEntry.objects.filter(project=project).count() == len(entries)


def test_the_journal_needs_its_permission(project, staff):
    make_bill(project)

    assert api_client(staff["cashier"]).get("/api/v1/journal-entries/").status_code == 403
    entries = api_client(staff["finance"]).get("/api/v1/journal-entries/").json()
    assert entries["count"] == 1 and entries["results"][0]["event"] == "bills_posted"


# Bad input


BAD_RULES = [
    {"tiers": {"上限": 1}},
    {"tiers": "0.55"},
    {"tiers": [[100, {"price": 1}]]},
    {"tiers": [[100, "0.5\u0000"], [None, "0.6"]]},
    {"tiers": [[1.5, 0.5]]},
    {"method": "tiered", "tiers": []},
    {"method": "formula", "formula": "(" * 30 + "1" + ")" * 30},
    {"method": "formula", "formula": "面积 ** 单价"},
    {"unit_price": "1e40"},
    {"unit_price": "NaN"},
    {"due_day": 0},
    {"effective_from": "0000-01-01"},
    {"fee_item": 2**70},
    {"project": "一"},
]


@pytest.mark.parametrize("change", BAD_RULES, ids=lambda change: repr(change)[:40])
def test_a_bad_rule_is_refused_with_a_message_not_an_error(project, staff, change):
    body = {"project": project.pk, "fee_item": make_fee_item(project.company).pk, "name": "物业费",
            "method": "fixed", "unit_price": "100", "effective_from": "2026-01-01", **change}

    response = api_client(staff["finance"]).post("/api/v1/charge-rules/", body, format="json")

    assert response.status_code == 400, response.content
    assert not ChargeRule.objects.exists()


BAD_REQUESTS = [
    {"amount": "NaN"},
    {"amount": "-1"},
    {"amount": "0"},
    {"amount": "1.001"},
    {"amount": "1" * 20},
    {"action": "refund"},
    {"reason": ""},
    {"reason": "\u0000"},
    {"bill": 2**70},
]


@pytest.mark.parametrize("change", BAD_REQUESTS, ids=lambda change: repr(change)[:40])
def test_a_bad_waiver_request_is_refused_with_a_message_not_an_error(project, staff, change):
    body = {"bill": make_bill(project).pk, "action": "waiver", "amount": "10.00", "reason": "困难", **change}

    response = api_client(staff["cashier"]).post("/api/v1/approval-requests/", body, format="json")

    assert response.status_code == 400, response.content
    assert not ApprovalRequest.objects.exists()


def test_finance_removes_a_binding_as_on_the_rules_page(project, staff):
    rule = make_charge_rule(project)
    binding = rule.bindings.get()

    response = api_client(staff["finance"]).delete(f"/api/v1/rule-bindings/{binding.pk}/")

    assert response.status_code == 204, response.content
    assert not rule.bindings.exists()


def test_a_cashier_cannot_change_what_a_rule_charges(project, staff):
    rule = make_charge_rule(project)

    client = api_client(staff["cashier"])

    assert client.post("/api/v1/rule-bindings/", {"rule": rule.pk, "target": "project"},
                       format="json").status_code == 403
    assert client.delete(f"/api/v1/rule-bindings/{rule.bindings.get().pk}/").status_code == 403


def test_discount_schemes_refuse_units_of_another_project_and_grant_on_the_next_run(company, project, staff,
                                                                                      area_rule):
    client = api_client(staff["finance"])
    other_unit = make_unit(make_project(company, name="别的项目"))
    unit = area_rule.project.units.order_by("pk").first()
    body = {"name": "指定房屋九折", "kind": "percent", "rate": "0.90", "valid_from": "2026-01-01",
            "project": project.pk}

    refused = client.post("/api/v1/discount-schemes/", body | {"units": [other_unit.pk]}, format="json")
    created = client.post("/api/v1/discount-schemes/", body | {"units": [unit.pk]}, format="json")
    run = client.post("/api/v1/bill-runs/", {"project": project.pk, "period_month": "2026-11",
                                             "rules": [area_rule.pk]}, format="json").json()
    client.post(f"/api/v1/bill-runs/{run['id']}/post/")

    assert refused.status_code == 400 and refused.json()["units"] == ["只能选择该项目的房屋"]
    assert created.status_code == 201
    discounts = client.get("/api/v1/bill-discounts/").json()["results"]
    assert [(d["scheme_name"], d["amount"]) for d in discounts] == [("指定房屋九折", "21.69")]
    bill = client.get(f"/api/v1/bills/{discounts[0]['bill']}/").json()
    assert (bill["discounted"], bill["outstanding"]) == ("21.69", "195.21")


def test_a_schedule_takes_only_its_projects_rules(company, project, staff, area_rule):
    client = api_client(staff["finance"])
    other_rule = make_charge_rule(make_project(company, name="别的项目"))

    refused = client.post("/api/v1/bill-run-schedules/", {"project": project.pk, "name": "每月 1 日",
                                                          "rules": [other_rule.pk], "day_of_month": 1}, format="json")
    too_late = client.post("/api/v1/bill-run-schedules/", {"project": project.pk, "name": "每月 31 日",
                                                           "rules": [area_rule.pk], "day_of_month": 31}, format="json")
    created = client.post("/api/v1/bill-run-schedules/", {"project": project.pk, "name": "每月 1 日",
                                                          "rules": [area_rule.pk], "day_of_month": 1}, format="json")

    assert refused.status_code == 400 and "rules" in refused.json()
    assert too_late.status_code == 400 and "day_of_month" in too_late.json()
    assert created.status_code == 201 and created.json()["rules"] == [area_rule.pk]
