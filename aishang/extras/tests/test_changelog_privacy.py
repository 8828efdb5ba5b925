import pytest

from aishang.core.context import change_context
from aishang.core.testing import make_company, make_customer, make_project, make_staff
from aishang.extras.models import ObjectChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def mobile_change():
    company = make_company()
    project = make_project(company)
    customer = make_customer(project, mobile="13812345678")
    with change_context(actor=make_staff(company)):
        customer.mobile = "13987654321"
        customer.save()
    return company, project, ObjectChange.objects.filter(object_id=customer.pk, action="update").get()


def test_the_change_log_masks_phone_numbers_for_staff_without_the_personal_data_permission(mobile_change, client):
    company, project, change = mobile_change
    cashier = make_staff(company, "cashier", projects=[project])

    assert change.diff(viewer=cashier) == [("手机号", "138****5678", "139****4321")]


def test_the_change_log_shows_phone_numbers_to_staff_with_the_permission(mobile_change):
    company, _, change = mobile_change
    admin = make_staff(company, "admin")

    assert change.diff(viewer=admin) == [("手机号", "13812345678", "13987654321")]


def test_the_system_change_page_masks_phone_numbers(mobile_change, client):
    company, project, change = mobile_change
    service = make_staff(company, "service", projects=[project])
    client.force_login(service)

    page = client.get(f"/system/changes/{change.pk}/").content.decode()

    assert "138****5678" in page
    assert "13812345678" not in page


def test_the_change_page_of_an_object_without_a_page_of_its_own_opens(client):
    company = make_company()
    admin = make_staff(company, "admin")
    with change_context(actor=admin):
        company.contact_phone = "0755-88886666"
        company.save()
    change = ObjectChange.objects.filter(object_id=company.pk, action="update", company=company).get()
    client.force_login(admin)

    response = client.get(f"/system/changes/{change.pk}/")

    assert response.status_code == 200
    assert "0755-88886666" in response.content.decode()
