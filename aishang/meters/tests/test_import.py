"""抄表导入: a file of readings is checked as a whole against the meters and their last readings, then saved in one
go, or nothing is saved and every error is named by its row and column."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from openpyxl import Workbook, load_workbook

from aishang.core.testing import api_client, make_building, make_company, make_entrance, make_project, make_staff
from aishang.core.testing import make_unit as make_unit_in
from aishang.extras.importing import ImportRejected
from aishang.extras.jobs import job_execute
from aishang.extras.models import AuditEvent, Job
from aishang.meters.choices import MeterKind, MeterRole, ReadingKind, ReadingSource
from aishang.meters.imports import HEADERS, reading_import, reading_import_template
from aishang.meters.models import Meter, MeterReading
from aishang.meters.readings import reading_record

pytestmark = pytest.mark.django_db
D = Decimal
HEADER_ROW = ["楼栋", "单元", "房号", "表类型", "表号", "上期读数", "上期抄表日期", "本期读数", "本期抄表日期", "备注"]


def day(month, date=25, year=2026):
    return datetime.date(year, month, date)


def xlsx(rows, headers=HEADER_ROW):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "读数.xlsx"
    return buffer


class Estate:
    """A project with building 1, entrance 2, and water meters W-1.. in flats 301.., installed reading 100."""

    def __init__(self):
        self.project = make_project(make_company())
        self.clerk = make_staff(self.project.company, "finance")
        self.building = make_building(self.project, code="1")
        self.entrance = make_entrance(self.building, code="2")
        self.meters = {}

    def meter(self, number, flat, **fields):
        unit = make_unit_in(self.project, building=self.building, number=flat)
        unit.entrance = self.entrance
        unit.save()
        fields = {"kind": MeterKind.WATER, "digits": 5, "initial_reading": D("100"),
                  "install_date": day(1, 1), **fields}
        self.meters[number] = Meter.objects.create(project=self.project, role=MeterRole.UNIT, unit=unit,
                                                   number=number, **fields)
        return self.meters[number]

    def read(self, number, value, read_on):
        return reading_record(meter=self.meters[number], value=D(value), read_on=read_on, actor=self.clerk)

    def import_rows(self, rows, headers=HEADER_ROW):
        return reading_import(project=self.project, file=xlsx(rows, headers), actor=self.clerk)


@pytest.fixture
def estate():
    estate = Estate()
    estate.meter("W-1", "301")
    estate.meter("W-2", "302")
    return estate


def rejected(estate, rows, headers=HEADER_ROW):
    with pytest.raises(ImportRejected) as refused:
        estate.import_rows(rows, headers)
    return [(e["row"], e["column"], e["message"]) for e in refused.value.errors.as_list()]


def test_a_reading_lower_than_the_last_one_in_row_12_saves_nothing_and_names_row_12(estate):
    estate.read("W-1", "150", day(9))
    rows = [["1", "2", "302", "水表", "W-2", None, None, 100 + month, day(month)] for month in range(1, 11)]
    rows.append(["1", "2", "301", "水表", "W-1", 150, day(9), 149, day(10)])  # row 12: 1 header + 10 + this

    errors = rejected(estate, rows)

    assert errors == [(12, "本期读数", "本期读数 149 低于上期 150.00；如为翻表或换表，请标明")]
    assert MeterReading.objects.filter(meter=estate.meters["W-2"]).count() == 0


def test_readings_are_saved_with_their_previous_reading_usage_source_and_clerk(estate):
    estate.read("W-1", "150", day(9))

    result = estate.import_rows([["1", "2", "301", "水表", "W-1", 150, day(9), 162.5, day(10), "厨房\t北侧\n\\N"],
                                 ["1", "2", "302", "水", "W-2", None, None, 130, day(10)]])

    assert result["readings"] == 2 and result["flagged"] == 0
    first = MeterReading.objects.get(meter=estate.meters["W-1"], read_on=day(10))
    assert (first.previous_value, first.previous_on, first.usage) == (D("150"), day(9), D("12.5"))
    assert first.note == "厨房\t北侧\n\\N"  # as typed, through COPY's escapes
    assert (first.source, first.recorded_by, first.kind) == (ReadingSource.IMPORT, estate.clerk, ReadingKind.NORMAL)
    second = MeterReading.objects.get(meter=estate.meters["W-2"])
    assert (second.previous_value, second.previous_on, second.usage) == (D("100"), day(1, 1), D("30"))
    audit = AuditEvent.objects.get(kind="import", company=estate.project.company)
    assert audit.detail["readings"] == 2 and audit.detail["project_id"] == estate.project.pk


def test_a_previous_reading_in_the_file_that_is_not_the_systems_is_refused_with_both_values(estate):
    estate.read("W-1", "150", day(9))

    errors = rejected(estate, [["1", "2", "301", "水表", "W-1", 140, day(9), 160, day(10)],
                               ["1", "2", "302", "水表", "W-2", 100, day(2), 160, day(10)]])

    assert errors == [
        (2, "上期读数", "文件中填写的上期读数 140 与系统中该表的上期读数不一致，系统中为 150.00"),
        (3, "上期抄表日期",
         "文件中填写的上期抄表日期 2026-02-25 与该表的起始读数和安装日期不一致，系统中为 2026-01-01"),
    ]
    assert MeterReading.objects.count() == 1


def test_an_unknown_meter_or_a_place_that_is_not_the_meters_is_an_error_at_its_column(estate):
    errors = rejected(estate, [["1", "2", "301", "水表", "W-9", None, None, 160, day(10)],
                               ["1", "3", "302", "电表", "W-2", None, None, 160, day(10)]])

    assert errors == [
        (2, "表号", "本项目没有表号为 W-9 的仪表"),
        (3, "单元", "表号 W-2 的单元是“2”，不是“3”"),
        (3, "表类型", "表号 W-2 是水表，不是“电表”"),
    ]


def test_a_rollover_marked_in_the_file_counts_the_full_dial(estate):
    estate.read("W-1", "99990", day(9))
    headers = [*HEADER_ROW, "读数类型"]

    estate.import_rows([["1", "2", "301", "水表", "W-1", None, None, 15, day(10), "", "翻表"],
                        ["1", "2", "302", "水表", "W-2", None, None, 120, day(9)],
                        ["1", "2", "302", "水表", "W-2", None, None, 5, day(10), "翻表"]], headers)

    rollover = MeterReading.objects.get(meter=estate.meters["W-1"], read_on=day(10))
    assert (rollover.kind, rollover.usage) == (ReadingKind.ROLLOVER, D("25"))
    marked_in_note = MeterReading.objects.get(meter=estate.meters["W-2"], read_on=day(10))
    assert (marked_in_note.kind, marked_in_note.usage) == (ReadingKind.ROLLOVER, D("99885"))


def test_several_readings_of_one_meter_are_taken_in_date_order_each_from_the_one_before(estate):
    estate.import_rows([["1", "2", "301", "水表", "W-1", 130, day(9), 145, day(10)],
                        ["1", "2", "301", "水表", "W-1", 100, day(1, 1), 130, day(9)],
                        ["1", "2", "301", "水表", "W-1", None, None, 150, day(11, 20)]])

    readings = list(MeterReading.objects.filter(meter=estate.meters["W-1"]).order_by("read_on")
                    .values_list("previous_value", "value", "usage"))
    assert readings == [(D("100"), D("130"), D("30")), (D("130"), D("145"), D("15")), (D("145"), D("150"), D("5"))]


def test_a_usage_three_times_the_recent_average_is_saved_and_flagged_for_review(estate):
    for month, value in ((2, "110"), (3, "120"), (4, "130")):
        estate.read("W-1", value, day(month))

    result = estate.import_rows([["1", "2", "301", "水表", "W-1", None, None, 140, day(5)],
                                 ["1", "2", "301", "水表", "W-1", None, None, 181, day(6)]])

    assert result["flagged"] == 1
    normal, unusual = MeterReading.objects.filter(read_on__gte=day(5)).order_by("read_on")
    assert not normal.flagged
    assert unusual.flagged and unusual.flag_reason == "用量 41.00 超过近 4 期平均 10.00 的 3 倍"


def test_the_same_file_imported_twice_is_refused_the_second_time(estate):
    rows = [["1", "2", "301", "水表", "W-1", None, None, 130, day(10)]]
    estate.import_rows(rows)

    errors = rejected(estate, rows)

    assert errors == [(2, "本期抄表日期",
                       "系统中已有表号 W-1 在 2026-10-25 的读数 130.00，每块表每天只能有一个读数")]
    assert MeterReading.objects.count() == 1


def test_the_template_lists_the_meters_with_their_last_readings_and_comes_back_filled_in(estate):
    estate.read("W-1", "150", day(9))
    estate.meter("E-1", "303", kind=MeterKind.ELECTRICITY)
    other = make_building(estate.project, code="2")
    make_unit_in(estate.project, building=other, number="101")

    sheet = load_workbook(io.BytesIO(reading_import_template(estate.project, building=estate.building,
                                                             kind=MeterKind.WATER))).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]

    assert rows[0] == list(HEADERS)
    assert [row[:7] for row in rows[1:]] == [["1", "2", "301", "水表", "W-1", 150, datetime.datetime(2026, 9, 25)],
                                            ["1", "2", "302", "水表", "W-2", 100, datetime.datetime(2026, 1, 1)]]
    sheet_filled = Workbook()
    for row in rows:
        sheet_filled.active.append(row)
    sheet_filled.active["H2"], sheet_filled.active["I2"] = 163, day(10)  # W-2 not read this time: left blank
    buffer = io.BytesIO()
    sheet_filled.save(buffer)
    buffer.seek(0)

    result = reading_import(project=estate.project, file=buffer, actor=estate.clerk)

    assert (result["readings"], result["skipped"]) == (1, 1)
    assert MeterReading.objects.get(read_on=day(10)).usage == D("13")


def test_the_api_imports_a_file_and_answers_the_result(estate):
    client = api_client(estate.clerk)
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 130, day(10)]]).read())

    response = client.post("/api/v1/meter-readings/import/", {"project": estate.project.pk, "file": upload},
                           format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["result"]["readings"] == 1 and response.json()["result"]["flagged"] == 0
    assert MeterReading.objects.get().source == ReadingSource.IMPORT


def test_the_api_imports_a_large_file_in_the_background_and_answers_202_with_the_job(
        estate, settings, django_capture_on_commit_callbacks):
    settings.JOBS_RUN_INLINE, settings.CELERY_BROKER_URL = False, ""
    client = api_client(estate.clerk)
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 130, day(10)]]).read())

    with django_capture_on_commit_callbacks() as started:
        response = client.post("/api/v1/meter-readings/import/?async=1",
                               {"project": estate.project.pk, "file": upload}, format="multipart")

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "pending" and response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert len(started) == 1 and MeterReading.objects.count() == 0  # the request did not import
    job_execute(job["id"])  # what the worker does
    done = client.get(response["Location"]).json()
    assert done["status"] == "succeeded" and done["result"]["readings"] == 1 and done["percent"] == 100
    assert MeterReading.objects.get().source == ReadingSource.IMPORT


def test_a_background_import_keeps_the_row_errors_on_its_job(estate):
    client = api_client(estate.clerk)
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 90, day(10)]]).read())

    response = client.post("/api/v1/meter-readings/import/?async=1", {"project": estate.project.pk, "file": upload},
                           format="multipart")

    assert response.status_code == 202
    job = client.get(response["Location"]).json()
    assert job["status"] == "failed" and job["errors"] == [
        {"row": 2, "column": "本期读数", "message": "本期读数 90 低于上期 100.00；如为翻表或换表，请标明"}]
    assert MeterReading.objects.count() == 0


def test_a_file_that_is_no_workbook_is_refused_at_once_in_either_mode(estate):
    client = api_client(estate.clerk)
    for url in ("/api/v1/meter-readings/import/", "/api/v1/meter-readings/import/?async=1"):
        upload = SimpleUploadedFile("读数.xlsx", b"not a workbook")

        response = client.post(url, {"project": estate.project.pk, "file": upload}, format="multipart")

        assert response.status_code == 400 and "file" in response.json()
    assert not Job.objects.exists()


def test_the_api_answers_row_errors_as_json_and_saves_nothing(estate):
    client = api_client(estate.clerk)
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 130, day(10)],
                                                 ["1", "2", "302", "水表", "W-2", None, None, 90, day(10)]]).read())

    response = client.post("/api/v1/meter-readings/import/", {"project": estate.project.pk, "file": upload},
                           format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": 3, "column": "本期读数",
                                          "message": "本期读数 90 低于上期 100.00；如为翻表或换表，请标明"}]
    assert Job.objects.get(pk=response.json()["job"]).status == "failed"
    assert MeterReading.objects.count() == 0


def test_the_api_template_is_the_projects_meters(estate):
    response = api_client(estate.clerk).get("/api/v1/meter-readings/import-template/",
                                            {"project": estate.project.pk, "kind": "water"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["W-1", "W-2"]


def test_a_user_without_the_right_to_record_readings_is_refused(estate, client):
    service = make_staff(estate.project.company, "service")
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 130, day(10)]]).read())

    api = api_client(service)
    assert api.post("/api/v1/meter-readings/import/", {"project": estate.project.pk, "file": upload},
                    format="multipart").status_code == 403
    assert api.get("/api/v1/meter-readings/import-template/", {"project": estate.project.pk}).status_code == 403
    client.force_login(service)
    assert client.get("/meters/readings/import/").status_code == 403
    assert MeterReading.objects.count() == 0


def test_a_project_outside_the_users_scope_is_not_found(estate):
    elsewhere = make_project(estate.project.company)
    clerk = make_staff(estate.project.company, "finance", projects=[elsewhere])

    response = api_client(clerk).get("/api/v1/meter-readings/import-template/", {"project": estate.project.pk})

    assert response.status_code == 404


def test_the_page_starts_the_import_and_the_job_shows_its_errors(estate, client):
    client.force_login(estate.clerk)
    page = client.get("/meters/readings/import/", {"project": estate.project.pk})
    assert page.status_code == 200 and "下载" in page.content.decode()
    upload = SimpleUploadedFile("读数.xlsx", xlsx([["1", "2", "301", "水表", "W-1", None, None, 90, day(10)]]).read())

    response = client.post("/meters/readings/import/", {"project": estate.project.pk, "file": upload}, follow=True)

    body = response.content.decode()
    assert "错误明细" in body and "本期读数 90 低于上期 100.00" in body
    job = Job.objects.get(kind="reading_import")
    errors = load_workbook(io.BytesIO(client.get(f"/system/jobs/{job.pk}/errors.xlsx").content)).worksheets[0]
    assert next(errors.iter_rows(min_row=2, values_only=True))[:2] == (2, "本期读数")


def test_the_page_downloads_a_buildings_template(estate, client):
    client.force_login(estate.clerk)

    response = client.get("/meters/readings/import/template/", {"project": estate.project.pk,
                                                                "building": estate.building.pk, "kind": "water"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == 3


def test_a_reading_recorded_between_checking_and_saving_the_file_refuses_the_import(estate):
    from aishang.meters.imports import ReadingImport

    importer = ReadingImport(estate.project, actor=estate.clerk).read(
        xlsx([["1", "2", "302", "水表", "W-2", None, None, 120, day(9)],
              ["1", "2", "301", "水表", "W-1", None, None, 130, day(10)]]))
    estate.read("W-1", "125", day(8))

    with pytest.raises(ImportRejected) as refused:
        importer.save()

    assert refused.value.errors.as_list() == [{"row": 3, "column": "本期抄表日期",
                                               "message": "表号 W-1 在校验后有人录入了新的读数，请重新导入"}]
    assert MeterReading.objects.count() == 1


def test_a_public_meter_comes_after_the_flats_and_is_found_by_its_building(estate):
    Meter.objects.create(project=estate.project, kind=MeterKind.WATER, role=MeterRole.PUBLIC, name="1号楼公区",
                         building=estate.building, number="G-1", install_date=day(1, 1))

    sheet = load_workbook(io.BytesIO(reading_import_template(estate.project))).worksheets[0]

    assert [row[:5] for row in sheet.iter_rows(min_row=2, values_only=True)][-1] == ("1", None, None, "水表", "G-1")
    assert estate.import_rows([["1", None, None, "水表", "G-1", None, None, 35, day(10)]])["readings"] == 1
    assert rejected(estate, [["2", None, None, "水表", "G-1", None, None, 40, day(11, 20)]]) == [
        (2, "楼栋", "表号 G-1 的楼栋是“1”，不是“2”")]


def test_the_database_constraints_stay_the_last_guard_of_the_bulk_write(estate):
    from aishang.meters.imports import ReadingImport

    importer = ReadingImport(estate.project, actor=estate.clerk).read(
        xlsx([["1", "2", "301", "水表", "W-1", None, None, 130, day(10)],
              ["1", "2", "302", "水表", "W-2", None, None, 120, day(10)]]))
    importer.rows[1].usage = D("-1")  # what no check of the import lets through

    with pytest.raises(IntegrityError):
        importer.save()
    assert MeterReading.objects.count() == 0


def history_read_then(monkeypatch, arrive):
    """The meters' last readings are read for the file, then `arrive()` records a reading before the import is
    saved (on PostgreSQL the one pass has then COPYed the file's rows already)."""
    from aishang.meters import imports

    read_history, arrived = imports.recent_readings, []

    def then_a_reading_arrives(project, meter_ids):
        history = read_history(project, meter_ids)
        if not arrived:
            arrived.append(arrive())
        return history

    monkeypatch.setattr(imports, "recent_readings", then_a_reading_arrives)


@pytest.mark.parametrize("arrives_on", [day(8), day(12)], ids=["before the files reading", "after it"])
def test_a_reading_arriving_while_the_file_is_read_refuses_the_import(estate, monkeypatch, arrives_on):
    estate.read("W-1", "120", day(7))
    history_read_then(monkeypatch, lambda: estate.read("W-1", "140", arrives_on))

    errors = rejected(estate, [["1", "2", "302", "水表", "W-2", None, None, 120, day(10)],
                               ["1", "2", "301", "水表", "W-1", 120, day(7), 130, day(10)],
                               ["1", "2", "301", "水表", "W-1", 130, day(10), 135, day(11, 5)]])

    assert errors == [(3, "本期抄表日期", "表号 W-1 在校验后有人录入了新的读数，请重新导入")]
    assert MeterReading.objects.count() == 2
