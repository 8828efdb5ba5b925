import datetime

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from aishang.billing.approvals import approval_request_create
from aishang.billing.services import bill_run_create
from aishang.core.testing import (
    api_client,
    make_bill,
    make_building,
    make_charge_rule,
    make_company,
    make_custom_field,
    make_owner,
    make_parking_space,
    make_project,
    make_staff,
    make_unit,
    make_vehicle,
)

pytestmark = pytest.mark.django_db

API_APPS = {"auth", "estate", "customers", "users", "extras", "notifications", "billing", "meters", "owner", "payments"}
# The coverage phase (every boundary value of every parameter, ~20,000 requests) takes minutes;
# run it by hand after API changes. The suite runs the examples and random fuzzing phases.
FAST = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_operation_is_tagged_by_its_app():
    schema = api_client().get("/api/schema/", {"format": "json"}).json()

    tags = {op["operationId"]: op.get("tags") for path in schema["paths"].values() for op in path.values()}

    assert tags
    assert all(len(op_tags) == 1 and op_tags[0] in API_APPS for op_tags in tags.values()), tags


def test_the_docs_page_loads():
    response = api_client().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_an_id_filter_beyond_64_bits_matches_nothing_instead_of_failing():
    client = api_client(make_staff(make_company(), "admin"))

    response = client.get("/api/v1/entrances/", {"project": 2**64})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.fixture
def company_admin_token():
    """A company with a little of everything, and its administrator's API token."""
    company = make_company()
    project = make_project(company)
    building = make_building(project)
    unit = make_unit(project, building=building)
    make_unit(project, building=building, type_name="商铺")
    customer = make_owner(unit)
    make_vehicle(project, customer=customer, parking_space=make_parking_space(project))
    make_custom_field(company, "hobby", target="customer", label="兴趣爱好")
    bill_run_create(project=project, rules=[make_charge_rule(project)], period_month=datetime.date(2026, 11, 1))
    approval_request_create(action="waiver", bill=make_bill(project, unit=unit), amount="10.00", reason="困难减免",
                            actor=make_staff(company, "cashier"))
    admin = make_staff(company, "admin")
    return api_client(admin)._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def api_schema(company_admin_token):
    # The WSGI calls run inside the test's transaction; Django would close the connection after each.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=FAST)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.schema
@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_server_fail(case, company_admin_token):
    cache.clear()  # the rate limits would otherwise answer 429 to most generated requests
    case.call_and_validate(headers={"Authorization": company_admin_token}, checks=[not_a_server_error])
