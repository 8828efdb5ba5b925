"""Recording many readings at once, and reviewing them: the services behind the grid and the review page."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aishang.core.testing import make_company, make_project, make_staff, make_unit
from aishang.meters.choices import MeterKind, MeterRole, ReadingKind, ReadingSource
from aishang.meters.models import Meter, MeterReading
from aishang.meters.readings import (
    ReadingRow,
    meter_replace,
    reading_approve,
    reading_correct,
    reading_record,
    reading_withdraw,
    readings_record_many,
)

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2026, 2, 25)


@pytest.fixture
def meters():
    project = make_project(make_company())
    return [Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=make_unit(project),
                                 number=f"W-{n}", install_date=datetime.date(2026, 1, 1), initial_reading=D("100"))
            for n in range(3)]


def test_many_readings_are_recorded_together_with_their_source(meters):
    clerk = make_staff(meters[0].project.company)
    rows = [ReadingRow(key=12, meter=meters[0], value=D("110"), read_on=DAY),
            ReadingRow(key=13, meter=meters[1], value=D("5"), read_on=DAY, kind=ReadingKind.ROLLOVER, note="翻表")]

    recorded = readings_record_many(rows=rows, actor=clerk, source=ReadingSource.IMPORT)

    assert [r.usage for r in recorded] == [D("10"), D("99905")]
    assert {r.source for r in MeterReading.objects.all()} == {ReadingSource.IMPORT}


def test_one_refused_row_saves_none_and_every_refused_row_is_named_by_its_key(meters):
    clerk = make_staff(meters[0].project.company)
    rows = [ReadingRow(key=11, meter=meters[0], value=D("110"), read_on=DAY),
            ReadingRow(key=12, meter=meters[1], value=D("90"), read_on=DAY),
            ReadingRow(key=13, meter=meters[2], value=D("120"), read_on=datetime.date(2025, 12, 1))]

    with pytest.raises(ValidationError) as refused:
        readings_record_many(rows=rows, actor=clerk)

    assert set(refused.value.message_dict) == {12, 13}
    assert "低于上期" in refused.value.message_dict[12][0] and "须晚于上期" in refused.value.message_dict[13][0]
    assert not MeterReading.objects.exists()


def test_a_dry_run_checks_every_row_and_saves_nothing(meters):
    clerk = make_staff(meters[0].project.company)
    rows = [ReadingRow(key=1, meter=meters[0], value=D("110"), read_on=DAY)]
    assert readings_record_many(rows=rows, actor=clerk, dry_run=True)[0].usage == D("10")
    assert not MeterReading.objects.exists()


def test_a_meter_is_not_replaced_by_a_number_already_used_nor_replaced_twice(meters):
    clerk = make_staff(meters[0].project.company)
    with pytest.raises(ValidationError) as refused:
        meter_replace(meter=meters[0], final_value=D("120"), on=DAY, number="W-1", initial_reading=D("0"), actor=clerk)
    assert refused.value.message_dict["number"] == ["该项目已有表号为 W-1 的仪表"]
    meter_replace(meter=meters[0], final_value=D("120"), on=DAY, number="W-9", initial_reading=D("0"), actor=clerk)
    with pytest.raises(ValidationError, match="已于 2026-02-25 拆除"):
        meter_replace(meter=meters[0], final_value=D("130"), on=DAY + datetime.timedelta(days=1), number="W-10",
                      initial_reading=D("0"), actor=clerk)


def test_a_corrected_reading_is_measured_from_the_same_previous_one_and_flagged_anew(meters):
    clerk = make_staff(meters[0].project.company)
    meter = meters[0]
    for month, value in ((1, "110"), (2, "120"), (3, "130")):
        reading_record(meter=meter, value=D(value), read_on=datetime.date(2026, month, 28), actor=clerk)
    latest = reading_record(meter=meter, value=D("135"), read_on=datetime.date(2026, 4, 28), actor=clerk)

    with pytest.raises(ValidationError) as refused:
        reading_correct(reading=latest, value=D("129"), kind=ReadingKind.NORMAL, reason="抄错", actor=clerk)
    assert "低于上期" in refused.value.message_dict["value"][0]
    corrected = reading_correct(reading=latest, value=D("235"), kind=ReadingKind.NORMAL, reason="漏了一位",
                                actor=clerk)

    assert (corrected.previous_value, corrected.usage, corrected.flagged) == (D("130"), D("105"), True)
    assert "超过近 3 期平均 10.00" in corrected.flag_reason  # compared with the readings before it, not itself
    approved = reading_approve(reading=corrected, actor=clerk)
    assert not approved.flagged and approved.reviewed_by == clerk
    with pytest.raises(ValidationError, match="不需要复核"):
        reading_approve(reading=approved, actor=clerk)


def test_a_replacements_last_reading_is_corrected_but_not_withdrawn(meters):
    clerk = make_staff(meters[0].project.company)
    final, _successor = meter_replace(meter=meters[0], final_value=D("120"), on=DAY, number="W-9",
                                      initial_reading=D("0"), actor=clerk)
    with pytest.raises(ValidationError, match="拆表读数，不能撤销"):
        reading_withdraw(reading=final, reason="误录", actor=clerk)
    corrected = reading_correct(reading=final, value=D("125"), kind=ReadingKind.ROLLOVER, reason="看错", actor=clerk)
    assert (corrected.kind, corrected.usage) == (ReadingKind.FINAL, D("25"))
