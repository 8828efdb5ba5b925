"""审批流程设置: administrators edit the levels of the waiver and void flows; requests under way keep their route."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from aishang.billing.approvals import approval_flow_bands, approval_flow_update, approval_request_create
from aishang.billing.models import ApprovalAction, ApprovalFlow, ApprovalLevel, ApprovalRequest
from aishang.core.testing import make_bill, make_company, make_project, make_role, make_staff
from aishang.extras.models import ObjectChange

pytestmark = pytest.mark.django_db

EDIT_URL = "/billing/approval-flows/{}/edit/"


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def project(company):
    return make_project(company, name="阳光花园")


@pytest.fixture
def roles(company):
    return {role.code: role for role in company.roles.all()}


@pytest.fixture
def manager(company):
    return make_role(company, ["billing.view_approvalrequest"], code="manager", name="总经理")


@pytest.fixture
def waiver_flow(company):
    return ApprovalFlow.objects.get(company=company, action=ApprovalAction.WAIVER)


@pytest.fixture
def admin(company):
    return make_staff(company, "admin")


def levels_of(flow):
    return list(flow.levels.order_by("level").values_list("level", "role__code", "min_amount"))


def form_data(name, levels, *, is_active=True, op="save"):
    """The edit page's POST: ``levels`` as [(role id or "", min_amount or "")]."""
    data = {"name": name, "op": op, "levels-TOTAL_FORMS": str(len(levels)), "levels-INITIAL_FORMS": str(len(levels)),
            "levels-MIN_NUM_FORMS": "0", "levels-MAX_NUM_FORMS": "1000"}
    if is_active:
        data["is_active"] = "on"
    for index, (role, min_amount) in enumerate(levels):
        data[f"levels-{index}-role"] = role
        data[f"levels-{index}-min_amount"] = min_amount
    return data


def test_finance_sees_the_flows_with_their_levels_and_routes_but_no_edit_button(client, company):
    client.force_login(make_staff(company, "finance"))

    page = client.get("/billing/approval-flows/").content.decode()

    assert "减免审批" in page and "作废审批" in page
    assert "¥500.01 起" in page and "低于 ¥500.01" in page and "¥500.01 及以上" in page
    assert "/edit/" not in page


def test_editing_a_flow_through_the_page_changes_the_route_of_the_next_request_but_not_of_a_pending_one(
        client, company, project, roles, manager, waiver_flow, admin):
    cashier = make_staff(company, "cashier")
    pending = approval_request_create(action=ApprovalAction.WAIVER, bill=make_bill(project), amount="300",
                                      reason="漏水", actor=cashier)
    assert [step["role"] for step in pending.route] == [roles["finance"].pk]
    client.force_login(admin)
    page = client.get(EDIT_URL.format(waiver_flow.pk)).content.decode()
    assert "已提交的申请仍按提交时的流程审批" in page and "目前有 1 个减免申请正在审批中" in page

    response = client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免审批（三级）", [
        (roles["finance"].pk, ""), (roles["admin"].pk, "100"), (manager.pk, "1000.00")]))

    assert response.status_code == 302 and response["Location"] == "/billing/approval-flows/"
    waiver_flow.refresh_from_db()
    assert waiver_flow.name == "减免审批（三级）"
    assert levels_of(waiver_flow) == [(1, "finance", None), (2, "admin", Decimal("100.00")),
                                      (3, "manager", Decimal("1000.00"))]
    pending.refresh_from_db()
    assert [step["role"] for step in pending.route] == [roles["finance"].pk]
    later = approval_request_create(action=ApprovalAction.WAIVER, bill=make_bill(project), amount="300",
                                    reason="漏水", actor=cashier)
    assert [step["role"] for step in later.route] == [roles["finance"].pk, roles["admin"].pk]
    large = approval_request_create(action=ApprovalAction.WAIVER, bill=make_bill(project), amount="1000",
                                    reason="重大维修", actor=cashier)
    assert [step["level"] for step in large.route] == [1, 2, 3]


def test_every_change_is_in_the_change_log_with_who_made_it(client, company, roles, waiver_flow, admin):
    client.force_login(admin)

    client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免审批", [(roles["admin"].pk, "")]))

    flow_type, level_type = (ContentType.objects.get_for_model(model) for model in (ApprovalFlow, ApprovalLevel))
    changes = ObjectChange.objects.filter(object_type__in=[flow_type, level_type])
    assert {(change.object_type_id, change.action) for change in changes} == {(level_type.pk, "update"),
                                                                               (level_type.pk, "delete")}
    assert {change.user_id for change in changes} == {admin.pk}
    update = changes.get(action="update")
    assert ("审批角色", "财务", "管理员") in update.diff()
    assert changes.get(action="delete").prechange_data["role"] == "管理员"


def test_levels_are_reordered_and_renumbered_without_gaps(company, roles, manager, waiver_flow, admin):
    approval_flow_update(waiver_flow, name="减免审批", is_active=True, actor=admin, levels=[
        {"role": roles["finance"], "min_amount": None}, {"role": manager, "min_amount": None},
        {"role": roles["admin"], "min_amount": Decimal("500.01")}])

    approval_flow_update(waiver_flow, name="减免审批", is_active=True, actor=admin, levels=[
        {"role": manager, "min_amount": None}, {"role": roles["admin"], "min_amount": Decimal("800")}])

    assert levels_of(waiver_flow) == [(1, "manager", None), (2, "admin", Decimal("800.00"))]


def row_roles(response):
    return [int(form.initial["role"]) for form in response.context["formset"]]


def test_the_row_buttons_rearrange_the_rows_without_saving(client, company, roles, manager, waiver_flow, admin):
    client.force_login(admin)
    url = EDIT_URL.format(waiver_flow.pk)
    rows = [(roles["finance"].pk, ""), (roles["admin"].pk, "500.01"), (manager.pk, "2000")]

    moved = client.post(url, form_data("减免审批", rows, op="up-2"), headers={"HX-Request": "true"})
    added = client.post(url, form_data("减免审批", rows, op="add"))
    removed = client.post(url, form_data("减免审批", rows, op="remove-0"), headers={"HX-Request": "true"})

    assert moved.status_code == 200 and "<html" not in moved.content.decode()
    assert row_roles(moved) == [roles["finance"].pk, manager.pk, roles["admin"].pk]
    assert len(added.context["formset"].forms) == 4 and "<html" in added.content.decode()
    assert row_roles(removed) == [roles["admin"].pk, manager.pk]
    assert "第 3 级" not in removed.content.decode()
    assert levels_of(waiver_flow) == [(1, "finance", None), (2, "admin", Decimal("500.01"))]


@pytest.mark.parametrize("levels, message", [
    ([], "至少需要一个审批级次"),
    ([("finance", ""), ("admin", "-1")], "起审金额不能为负数"),
    ([("finance", "100")], "第 1 级须对所有金额生效"),
    ([("finance", ""), ("admin", "1000"), ("finance", "500")], "起审金额不能低于上一级的 ¥1,000.00"),
    ([("finance", ""), ("admin", "1000"), ("finance", "")], "上一级从 ¥1,000.00 起才审批"),
    ([("finance", ""), ("", "")], "请选择审批角色"),
    ([("finance", ""), ("admin", "abc")], "请输入正确的金额"),
    ([("finance", ""), ("admin", "1.005")], "起审金额最多两位小数"),
])
def test_a_bad_flow_is_refused_with_a_message_and_nothing_changes(client, company, roles, waiver_flow, admin,
                                                                   levels, message):
    client.force_login(admin)
    before = levels_of(waiver_flow)

    response = client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免审批", [
        (roles[code].pk if code else "", amount) for code, amount in levels]))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert levels_of(waiver_flow) == before and not ObjectChange.objects.filter(
        object_type=ContentType.objects.get_for_model(ApprovalLevel)).exists()


def test_a_role_of_another_company_is_refused(client, roles, waiver_flow, admin):
    stranger = make_company().roles.get(code="finance")
    client.force_login(admin)

    response = client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免审批", [(stranger.pk, "")]))

    assert response.status_code == 400 and "请选择本企业的角色" in response.content.decode()
    assert levels_of(waiver_flow)[0][1] == "finance"
    with pytest.raises(ValidationError, match="请选择本企业的角色"):
        approval_flow_update(waiver_flow, name="减免审批", is_active=True, actor=admin,
                             levels=[{"role": stranger, "min_amount": None}])


def test_a_missing_name_is_refused_at_the_field(client, roles, waiver_flow, admin):
    client.force_login(admin)

    response = client.post(EDIT_URL.format(waiver_flow.pk), form_data(" ", [(roles["finance"].pk, "")]))

    assert response.status_code == 400 and "请填写流程名称" in response.content.decode()
    waiver_flow.refresh_from_db()
    assert waiver_flow.name == "减免审批"


def test_finance_may_look_but_not_edit(client, company, roles, waiver_flow):
    client.force_login(make_staff(company, "finance"))

    assert client.get(EDIT_URL.format(waiver_flow.pk)).status_code == 403
    response = client.post(EDIT_URL.format(waiver_flow.pk), form_data("改名", [(roles["finance"].pk, "")]))

    assert response.status_code == 403
    waiver_flow.refresh_from_db()
    assert waiver_flow.name == "减免审批" and len(levels_of(waiver_flow)) == 2


def test_staff_without_the_view_permission_get_403_and_other_companies_404(client, company, waiver_flow):
    client.force_login(make_staff(company, "cashier"))
    assert client.get("/billing/approval-flows/").status_code == 403

    client.force_login(make_staff(make_company(), "admin"))
    assert client.get(EDIT_URL.format(waiver_flow.pk)).status_code == 404


def test_adding_a_level_needs_the_add_permission(client, company, roles, waiver_flow):
    editor = make_staff(company, "cashier")
    editor.roles.add(make_role(company, ["billing.view_approvalflow", "billing.change_approvalflow",
                                         "billing.change_approvallevel"]))
    client.force_login(editor)

    renamed = client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免", [(roles["finance"].pk, ""),
                                                                             (roles["admin"].pk, "500.01")]))
    grown = client.post(EDIT_URL.format(waiver_flow.pk), form_data("减免", [
        (roles["finance"].pk, ""), (roles["admin"].pk, "500.01"), (roles["admin"].pk, "9000")]))

    assert renamed.status_code == 302 and grown.status_code == 403
    assert len(levels_of(waiver_flow)) == 2


def test_a_switched_off_flow_refuses_new_requests(company, project, roles, waiver_flow, admin):
    approval_flow_update(waiver_flow, name="减免审批", is_active=False, actor=admin,
                         levels=[{"role": roles["finance"], "min_amount": None}])

    with pytest.raises(ValidationError, match="尚未配置"):
        approval_request_create(action=ApprovalAction.WAIVER, bill=make_bill(project), amount="10", reason="补偿",
                                actor=make_staff(company, "cashier"))
    assert not ApprovalRequest.objects.exists()


def test_the_bands_say_which_levels_each_amount_passes(company, roles, manager, waiver_flow, admin):
    approval_flow_update(waiver_flow, name="减免审批", is_active=True, actor=admin, levels=[
        {"role": roles["finance"], "min_amount": None}, {"role": roles["admin"], "min_amount": Decimal("500")},
        {"role": manager, "min_amount": Decimal("5000")}])

    bands = approval_flow_bands(waiver_flow.levels.select_related("role").order_by("level"))

    assert [(band["start"], band["end"], [level.role.code for level in band["levels"]]) for band in bands] == [
        (None, Decimal("500"), ["finance"]), (Decimal("500"), Decimal("5000"), ["finance", "admin"]),
        (Decimal("5000"), None, ["finance", "admin", "manager"])]
