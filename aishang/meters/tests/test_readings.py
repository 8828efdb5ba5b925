import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aishang.core.testing import make_company, make_project, make_staff, make_unit
from aishang.meters.choices import MeterKind, MeterRole, ReadingKind
from aishang.meters.models import Meter, MeterReading
from aishang.meters.readings import meter_replace, reading_record, reading_usage

D = Decimal


def test_a_rollover_from_99990_to_15_on_a_5_digit_meter_is_a_usage_of_25():
    assert reading_usage(D("99990"), D("15"), digits=5, multiplier=D("1"), rollover=True) == D("25")


def test_a_multiplier_of_80_multiplies_usage():
    assert reading_usage(D("1200"), D("1250.5"), digits=5, multiplier=D("80")) == D("4040.0")
    assert reading_usage(D("99990"), D("15"), digits=5, multiplier=D("80"), rollover=True) == D("2000")


def test_a_reading_below_the_last_is_refused_unless_marked_and_a_false_rollover_too():
    with pytest.raises(ValidationError, match=r"低于上期.*如为翻表或换表，请标明"):
        reading_usage(D("500"), D("499"), digits=5, multiplier=D("1"))
    with pytest.raises(ValidationError, match="标记为翻表，但本期读数 600 不低于上期 500"):
        reading_usage(D("500"), D("600"), digits=5, multiplier=D("1"), rollover=True)
    with pytest.raises(ValidationError, match="读数应在 0 到 99999 之间"):
        reading_usage(D("500"), D("100000"), digits=5, multiplier=D("1"))



@pytest.fixture
def setting():
    project = make_project(make_company())
    unit = make_unit(project)
    clerk = make_staff(project.company)
    meter = Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.UNIT, unit=unit,
                                 number="W-0001", digits=5, install_date=datetime.date(2026, 1, 1),
                                 initial_reading=D("100"))
    return project, unit, clerk, meter


def read(meter, clerk, value, month, **kwargs):
    return reading_record(meter=meter, value=D(value), read_on=datetime.date(2026, month, 25), actor=clerk,
                          **kwargs)


@pytest.mark.django_db
def test_readings_follow_one_another_from_the_initial_reading(setting):
    _project, _unit, clerk, meter = setting
    first = read(meter, clerk, "112", 1)
    second = read(meter, clerk, "125.5", 2)
    assert (first.previous_value, first.usage) == (D("100"), D("12"))
    assert (second.previous_value, second.previous_on, second.usage) == (D("112"), first.read_on, D("13.5"))

    with pytest.raises(ValidationError) as refused:
        read(meter, clerk, "120", 3)
    assert "value" in refused.value.message_dict and MeterReading.objects.filter(meter=meter).count() == 2
    with pytest.raises(ValidationError) as refused:
        read(meter, clerk, "130", 2)
    assert "本期抄表日期须晚于上期" in refused.value.message_dict["read_on"][0]


@pytest.mark.django_db
def test_unusual_usage_is_flagged_for_review_not_refused(setting):
    _project, _unit, clerk, meter = setting
    for month, value in ((1, "110"), (2, "120"), (3, "130")):
        assert not read(meter, clerk, value, month).flagged
    steady = read(meter, clerk, "160", 4)  # 30 = three times the average, not more
    assert not steady.flagged
    spike = read(meter, clerk, "260", 5)
    assert spike.flagged and spike.usage == D("100") and "超过近 4 期平均" in spike.flag_reason


@pytest.mark.django_db
def test_a_replaced_meter_keeps_its_last_reading_and_the_new_one_starts_from_its_own(setting):
    project, unit, clerk, meter = setting
    master = Meter.objects.create(project=project, kind=MeterKind.WATER, role=MeterRole.MASTER, number="W-M1",
                                  name="1号楼总表", install_date=datetime.date(2026, 1, 1))
    meter.parent = master
    meter.save()
    read(meter, clerk, "150", 1)

    final, new = meter_replace(meter=meter, final_value=D("158"), on=datetime.date(2026, 2, 10), number="W-0002",
                               initial_reading=D("3"), actor=clerk)

    meter.refresh_from_db()
    assert (final.kind, final.usage, meter.removed_on) == (ReadingKind.FINAL, D("8"), datetime.date(2026, 2, 10))
    assert (new.unit, new.parent, new.replaces, new.initial_reading) == (unit, master, meter, D("3"))
    assert read(new, clerk, "10", 2).usage == D("7")
    with pytest.raises(ValidationError, match="已于 2026-02-10 拆除"):
        read(meter, clerk, "170", 3)
