import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from aishang.billing.choices import ChargeMethod
from aishang.billing.models import Bill, BillRun, BindingTarget, ChargeRule, FeeItem, RuleBinding
from aishang.billing.services import bill_run_create, bill_run_post
from aishang.core.money import format_money, quantize_amount
from aishang.core.testing import (
    make_company,
    make_customer,
    make_parking_space,
    make_project,
    make_staff,
    make_unit,
)
from aishang.estate.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    company = make_company()
    project = make_project(company, name="阳光花园")
    for _ in range(3):
        make_unit(project, area="100.00")
    fee_item = FeeItem.objects.create(company=company, code="WY", name="物业费")
    rule = ChargeRule.objects.create(project=project, fee_item=fee_item, name="住宅物业费",
                                     method=ChargeMethod.BUILDING_AREA, unit_price=Decimal("2.00"),
                                     effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=rule, target=BindingTarget.PROJECT)
    return company, project, rule


def test_finance_previews_then_posts_a_run_from_the_pages(client, setup):
    company, project, rule = setup
    client.force_login(make_staff(company, "finance"))

    response = client.post("/billing/runs/add/", {"project": project.pk, "period_month": "2026-11",
                                                  "rules": [rule.pk]})
    run = BillRun.objects.get()
    assert response["Location"] == f"/billing/runs/{run.pk}/"
    preview = client.get(f"/billing/runs/{run.pk}/").content.decode()
    assert 'data-testid="preview-count">3<' in preview and "¥600.00" in preview

    posted = client.post(f"/billing/runs/{run.pk}/post/")

    assert posted.status_code == 302 and "/system/jobs/" in posted["Location"]
    assert Bill.objects.filter(run=run).count() == 3
    bills = client.get("/billing/bills/", {"run": run.pk}).content.decode()
    assert "¥600.00" in bills  # the totals row under the filter


def test_a_run_for_another_project_is_refused_at_the_field(client, setup):
    company, _, rule = setup
    other = make_project(company, name="别的项目")
    client.force_login(make_staff(company, "finance"))

    response = client.post("/billing/runs/add/", {"project": other.pk, "period_month": "2026-11",
                                                  "rules": [rule.pk]})

    assert response.status_code == 400
    assert not BillRun.objects.exists()


def test_a_cashier_may_see_bills_but_not_start_a_run(client, setup):
    company, _, _ = setup
    client.force_login(make_staff(company, "cashier"))

    assert client.get("/billing/bills/").status_code == 200
    assert client.get("/billing/runs/add/").status_code == 403


def test_a_project_scoped_user_cannot_open_another_projects_rule(client, setup):
    company, _, rule = setup
    mine = make_project(company)
    client.force_login(make_staff(company, "finance", projects=[mine]))

    assert client.get(f"/billing/rules/{rule.pk}/").status_code == 404
    assert "住宅物业费" not in client.get("/billing/rules/").content.decode()


def test_binding_a_rule_to_a_unit_by_its_code(client, setup):
    company, project, rule = setup
    unit = make_unit(project, number="1501")
    client.force_login(make_staff(company, "finance"))

    client.post(f"/billing/rules/{rule.pk}/bindings/add/", {"target": "unit", "unit_code": unit.code})
    missing = client.post(f"/billing/rules/{rule.pk}/bindings/add/", {"target": "unit", "unit_code": "9-9-999"},
                          follow=True)

    assert rule.bindings.filter(unit=unit).exists()
    assert "没有编码为「9-9-999」的房屋" in missing.content.decode()


def test_binding_a_rule_to_a_customer_by_mobile_or_to_a_parking_space(client, setup):
    company, project, rule = setup
    customer = make_customer(project, mobile="13912345678")
    space = make_parking_space(project)
    client.force_login(make_staff(company, "finance"))

    client.post(f"/billing/rules/{rule.pk}/bindings/add/", {"target": "customer", "customer_mobile": "13912345678"})
    client.post(f"/billing/rules/{rule.pk}/bindings/add/", {"target": "parking_space", "parking_space": space.pk})
    missing = client.post(f"/billing/rules/{rule.pk}/bindings/add/",
                          {"target": "customer", "customer_mobile": "13900000000"}, follow=True)

    assert rule.bindings.filter(customer=customer).exists() and rule.bindings.filter(parking_space=space).exists()
    assert "该项目没有手机号为 13900000000 的客户" in missing.content.decode()


def test_a_formula_rule_is_tried_on_a_chosen_unit_before_billing(client, setup):
    company, project, _ = setup
    unit = make_unit(project, area="80.00")
    rule = ChargeRule.objects.create(project=project, fee_item=FeeItem.objects.get(company=company), name="垃圾清运",
                                     method=ChargeMethod.FORMULA, formula="用量 × 单价 + 面积 × 0.1",
                                     unit_price=Decimal("2.50"), effective_from=datetime.date(2020, 1, 1))
    client.force_login(make_staff(company, "finance"))
    url = f"/billing/rules/{rule.pk}/"

    tried = client.get(url, {"tab": "trial", "unit_code": unit.code, "month": "2026-11", "usage": "12"})
    no_usage = client.get(url, {"tab": "trial", "unit_code": unit.code, "month": "2026-11"})
    unknown = client.get(url, {"tab": "trial", "unit_code": "9-9-999", "month": "2026-11"})

    assert "¥38.00" in tried.content.decode()  # 12 × 2.50 + 80.00 × 0.1
    assert "缺少" in no_usage.content.decode() and 'data-testid="trial-result"' in no_usage.content.decode()
    assert "该项目没有编码为「9-9-999」的房屋" in unknown.content.decode()
    assert not Bill.objects.exists()


def test_a_fee_item_is_created_for_the_users_company(client, setup):
    company, _, _ = setup
    client.force_login(make_staff(company, "admin"))

    client.post("/billing/fee-items/add/", {"code": "SF", "name": "水费", "category": "water", "rounding": "half_up",
                                            "precision": "0.01", "tax_rate": "0.09", "late_fee_daily_rate": "0.0005",
                                            "is_active": "on"})

    assert FeeItem.objects.get(code="SF").company == company


def test_a_units_page_shows_which_rules_charge_it_why_and_how_much(client, setup):
    company, project, rule = setup
    unit = Unit.objects.filter(project=project).first()
    shop_rule = ChargeRule.objects.create(project=project, fee_item=rule.fee_item, name="商铺物业费",
                                          unit_price=Decimal("5.00"), effective_from=datetime.date(2020, 1, 1))
    RuleBinding.objects.create(rule=shop_rule, target=BindingTarget.UNIT, unit=Unit.objects.exclude(pk=unit.pk)[0])
    client.force_login(make_staff(company, "cashier"))

    page = client.get(f"/estate/units/{unit.pk}/", {"tab": "charges", "month": "2026-11"}).content.decode()

    assert page.count('data-testid="rule-charge"') == 1  # the shop rule is bound to another unit
    assert "住宅物业费" in page and "绑定整个项目" in page and "商铺物业费" not in page
    assert "¥200.00" in page and "100.00 ㎡ × 2.00 元/㎡/月 × 1 月" in page


def test_the_charges_tab_is_only_for_staff_who_may_see_bills(client, setup):
    company, project, _ = setup
    unit = Unit.objects.filter(project=project).first()
    client.force_login(make_staff(company, "technician"))

    page = client.get(f"/estate/units/{unit.pk}/", {"tab": "charges"}).content.decode()

    assert 'data-testid="unit-rule-charges"' not in page


def test_a_bill_page_shows_the_late_fee_apart_from_the_amount(client, setup):
    company, project, rule = setup
    rule.fee_item.late_fee_enabled = True
    rule.fee_item.save()
    bill_run_post(bill_run_create(project=project, rules=[rule], period_month=datetime.date(2026, 1, 1)))
    bill = Bill.objects.first()
    client.force_login(make_staff(company, "cashier"))

    page = client.get(f"/billing/bills/{bill.pk}/").content.decode()

    days = (timezone.localdate() - bill.due_date).days
    expected = quantize_amount(Decimal("200.00") * Decimal("0.0005") * days, precision="0.01", rounding="half_up")
    assert f'data-testid="late-fee">{format_money(min(expected, Decimal("200.00")))}' in page
    assert "¥200.00" in page
