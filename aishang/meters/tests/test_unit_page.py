"""The unit's page shows its meters with their last reading and its shares of allocation runs (水电与公摊 tab),
added by the meters app: the estate app knows no meters."""

import datetime
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aishang.core.testing import make_staff
from aishang.meters.allocation_runs import allocation_post, allocation_preview, allocation_reverse
from aishang.meters.readings import meter_replace

from .allocation_factories import delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
# Twelve months from October 2026 (the meters are installed on 2026-09-30), each read on its 28th.
MONTHS = [
    (
        datetime.date(2026 + (month > 12), (month - 1) % 12 + 1, 1),
        datetime.date(2026 + (month > 12), (month - 1) % 12 + 1, 28),
    )
    for month in range(10, 22)
]


def tab(client, unit, **query):
    return client.get(unit.get_absolute_url(), {"tab": "meters", **query})


def lighting_shared(project):
    """The project's public lighting, shared by area among all its units."""
    return rule(project, meter(project, role="public", name="公区照明"), name="公区照明", include_all_units=True)


def post_months(shared, finance, months):
    """The lighting read (1,000 kWh) and its run posted for each month given; the runs, oldest first."""
    runs = []
    for start, end in months:
        read(shared.meter, 1000, on=end)
        runs.append(
            allocation_post(
                run=allocation_preview(rule=shared, period_start=start, period_end=end, actor=finance), actor=finance
            )
        )
    return runs


def test_the_tab_lists_the_units_meters_with_their_last_reading(client, project, finance):
    unit, neighbour = delivered_units(project, 2)
    water = meter(project, unit=unit, kind="water")
    read(water, 18, on=datetime.date(2026, 10, 31))
    read(water, 12, on=datetime.date(2026, 11, 30))
    electricity = meter(project, unit=unit)
    meter(project, unit=neighbour, kind="water")
    client.force_login(finance)

    page = tab(client, unit).content.decode()

    assert "水电与公摊" in page
    assert page.count('data-testid="unit-meter"') == 2
    assert water.number in page and electricity.number in page
    assert "2026-11-30" in page and "12.00" in page and "30.00" in page  # last reading: value 30 after 18 + 12
    assert "这套房屋没有仪表" not in page


def test_a_replaced_meter_is_listed_after_the_one_in_use(client, project, finance):
    (unit,) = delivered_units(project, 1)
    old = meter(project, unit=unit, kind="water")
    read(old, 5, on=datetime.date(2026, 10, 31))
    _final, _new = meter_replace(
        meter=old,
        final_value=old.initial_reading + 7,
        on=datetime.date(2026, 11, 15),
        number="W-NEW",
        initial_reading=0,
        actor=finance,
    )
    client.force_login(finance)

    rows = [row for row in tab(client, unit).content.decode().split('data-testid="unit-meter"')[1:]]

    assert "W-NEW" in rows[0] and "在用" in rows[0]
    assert old.number in rows[1] and "2026-11-15 拆除" in rows[1]


def test_the_tab_lists_the_units_posted_shares_newest_first_with_a_link_to_each_run(client, project, finance):
    unit, *_others = delivered_units(project, 4)
    october, november = post_months(lighting_shared(project), finance, MONTHS[:2])
    allocation_reverse(run=october, actor=finance, reason="照明表读数有误")
    client.force_login(finance)

    page = tab(client, unit).content.decode()

    shares = page.split('data-testid="unit-share"')[1:]
    assert len(shares) == 2
    assert "2026-11-01 ～ 2026-11-28" in shares[0] and "已入账" in shares[0]
    assert "2026-10-01 ～ 2026-10-28" in shares[1] and "已冲销" in shares[1]
    assert "250.00 kWh" in shares[0] and "25.00%" in shares[0] and "按面积" in shares[0]
    assert "公摊 1000 kWh × 本户面积 100 ㎡ / 总面积 400 ㎡ = 250.00 kWh" in shares[0]
    assert november.get_absolute_url() in shares[0] and october.get_absolute_url() in shares[1]


def test_a_draft_run_is_not_listed_as_the_units_share(client, project, finance):
    (unit,) = delivered_units(project, 1)
    lighting = meter(project, role="public", name="公区照明")
    read(lighting, 300)
    allocation_preview(
        rule=rule(project, lighting),
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        actor=finance,
    )
    client.force_login(finance)

    page = tab(client, unit).content.decode()

    assert 'data-testid="unit-share"' not in page and "暂无已入账的公摊分摊" in page


def test_the_page_costs_the_same_queries_for_one_share_and_meter_or_a_year_of_them(client, project, finance):
    (unit,) = delivered_units(project, 1)
    shared = lighting_shared(project)
    read(meter(project, unit=unit, kind="water"), 10)
    post_months(shared, finance, MONTHS[:1])
    client.force_login(finance)
    tab(client, unit)  # the session and caches warmed, as on a second visit
    with CaptureQueriesContext(connection) as one_month:
        tab(client, unit)

    post_months(shared, finance, MONTHS[1:])
    for _number in range(3):
        read(meter(project, unit=unit), 10)
    with CaptureQueriesContext(connection) as a_year:
        page = tab(client, unit).content.decode()

    assert page.count('data-testid="unit-share"') == 12 and page.count('data-testid="unit-meter"') == 4
    assert len(a_year) == len(one_month) <= 10, [query["sql"] for query in a_year.captured_queries]


def test_more_shares_than_a_page_go_on_to_the_next(client, project, finance, monkeypatch):
    monkeypatch.setattr("aishang.meters.views.UNIT_SHARES_PER_PAGE", 5)
    (unit,) = delivered_units(project, 1)
    post_months(lighting_shared(project), finance, MONTHS[:7])
    client.force_login(finance)

    first, last = tab(client, unit).content.decode(), tab(client, unit, page=2).content.decode()

    assert first.count('data-testid="unit-share"') == 5 and last.count('data-testid="unit-share"') == 2
    assert "2027-04-01" in first and "2026-10-01" in last and "tab=meters" in first


def test_who_sees_what_a_technician_meters_only_a_cashier_no_tab(client, project):
    (unit,) = delivered_units(project, 1)
    meter(project, unit=unit, kind="water")

    client.force_login(make_staff(project.company, "technician"))
    technician = tab(client, unit).content.decode()
    assert 'data-testid="unit-meters"' in technician and 'data-testid="unit-allocation-shares"' not in technician

    client.force_login(make_staff(project.company, "cashier"))
    cashier = tab(client, unit).content.decode()
    assert "水电与公摊" not in cashier and 'data-testid="unit-meters"' not in cashier


def test_the_estate_app_does_not_import_meters():
    estate = Path(__file__).resolve().parents[2] / "estate"
    imports_meters = re.compile(r"^\s*(from|import)\s+(aishang\.meters|\.\.meters)\b|from aishang import meters", re.M)

    assert [str(path) for path in estate.rglob("*.py") if imports_meters.search(path.read_text("utf-8"))] == []
