import pytest
from django.core.management import CommandError, call_command

from aishang.core.testing import make_company
from aishang.estate.models import Company
from aishang.extras.models import CustomField
from aishang.users.models import User

pytestmark = pytest.mark.django_db


def test_a_new_company_gets_the_standard_property_types_with_their_fields():
    company = make_company()

    names = set(company.property_types.values_list("name", flat=True))
    assert names == {"住宅", "商铺", "写字楼", "园区", "车位", "仓储"}
    shop_fields = CustomField.objects.filter(company=company, property_type__name="商铺")
    assert set(shop_fields.values_list("label", flat=True)) == {"租赁状态", "经营范围"}
    assert CustomField.objects.get(company=company, property_type__name="写字楼").label == "入驻企业"
    assert CustomField.objects.get(company=company, property_type__name="园区").label == "设施布局"


def test_a_new_company_gets_the_system_roles():
    company = make_company()

    names = set(company.roles.values_list("name", flat=True))
    assert names == {"管理员", "财务", "收银员", "客服", "管家", "维修工", "保安"}
    cashier = company.roles.get(code="cashier")
    assert not cashier.permissions.filter(codename="view_customer_pii").exists()
    assert company.roles.get(code="admin").permissions.filter(codename="view_customer_pii").exists()


def test_create_company_command_makes_a_company_and_its_administrator():
    call_command("create_company", "新城物业", admin_username="xc_admin", admin_password="Xincheng2026")

    company = Company.objects.get(name="新城物业")
    admin = User.objects.get(username="xc_admin")
    assert admin.company == company and admin.scope_all_projects
    assert admin.has_perm("estate.add_project")


def test_create_company_command_refuses_a_weak_password_and_creates_nothing():
    with pytest.raises(CommandError):
        call_command("create_company", "弱密码物业", admin_username="weak", admin_password="12345678")

    assert not Company.objects.filter(name="弱密码物业").exists()
