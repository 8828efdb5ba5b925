"""The meters API as the staff app and smart meters use it: register meters, send readings, replace a meter."""

import pytest

from aishang.core.testing import api_client, make_company, make_project, make_staff, make_unit
from aishang.meters.models import Meter, MeterReading

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_project(make_company())


def test_finance_registers_a_meter_and_a_steward_sends_its_readings(project):
    unit = make_unit(project)
    finance = api_client(make_staff(project.company, "finance"))
    steward = api_client(make_staff(project.company, "steward"))

    created = finance.post("/api/v1/meters/", {"project": project.pk, "kind": "electricity", "role": "unit",
                                               "number": "E-1", "unit": unit.pk, "multiplier": "80", "digits": 5,
                                               "install_date": "2026-01-01", "initial_reading": "99990"},
                           format="json")
    assert created.status_code == 201, created.json()
    meter = created.json()["id"]
    assert steward.post("/api/v1/meters/", {"project": project.pk, "kind": "water", "number": "W-9",
                                            "unit": unit.pk, "install_date": "2026-01-01"},
                        format="json").status_code == 403

    lower = steward.post("/api/v1/meter-readings/", {"meter": meter, "read_on": "2026-02-01", "value": "15"},
                         format="json")
    assert lower.status_code == 400 and "如为翻表或换表，请标明" in lower.json()["value"][0]
    rollover = steward.post("/api/v1/meter-readings/", {"meter": meter, "read_on": "2026-02-01", "value": "15",
                                                        "kind": "rollover"}, format="json")
    assert rollover.status_code == 201 and rollover.json()["usage"] == "2000.00"  # 25 kWh × 80
    assert MeterReading.objects.get().source == "api"


def test_a_unit_meter_needs_a_unit_of_the_same_project_and_a_master_meter_above_it(project):
    finance = api_client(make_staff(project.company, "finance"))
    elsewhere = make_unit(make_project(project.company))
    body = {"project": project.pk, "kind": "water", "role": "unit", "number": "W-1", "install_date": "2026-01-01"}
    assert finance.post("/api/v1/meters/", body, format="json").json()["unit"] == ["户表须选择房屋"]
    refused = finance.post("/api/v1/meters/", body | {"unit": elsewhere.pk}, format="json")
    assert refused.status_code == 400 and refused.json()["unit"] == ["不属于该项目"]
    public = Meter.objects.create(project=project, kind="water", role="public", number="W-P", name="公区",
                                  install_date="2026-01-01")
    refused = finance.post("/api/v1/meters/", body | {"unit": make_unit(project).pk, "parent": public.pk},
                           format="json")
    assert refused.json()["parent"] == ["上级须为同类型的总表"]
    assert not Meter.objects.filter(number="W-1").exists()


def test_a_meter_is_replaced_and_the_new_one_starts_from_its_own_reading(project):
    finance = api_client(make_staff(project.company, "finance"))
    old = Meter.objects.create(project=project, kind="water", role="unit", unit=make_unit(project), number="W-1",
                               install_date="2026-01-01")
    taken = finance.post(f"/api/v1/meters/{old.pk}/replace/", {"final_value": "88", "on": "2026-03-01",
                                                               "number": "W-1", "initial_reading": "0"},
                         format="json")
    assert taken.status_code == 400 and "W-1" in taken.json()["number"][0]

    replaced = finance.post(f"/api/v1/meters/{old.pk}/replace/", {"final_value": "88", "on": "2026-03-01",
                                                                  "number": "W-2", "initial_reading": "0"},
                            format="json")

    assert replaced.status_code == 201 and replaced.json()["replaces"] == old.pk
    old.refresh_from_db()
    assert str(old.removed_on) == "2026-03-01" and old.readings.get().usage == 88
