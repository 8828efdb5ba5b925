import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from aishang.core.testing import (
    api_client,
    make_building,
    make_company,
    make_custom_field,
    make_customer,
    make_entrance,
    make_project,
    make_resident_id,
    make_staff,
    make_unit,
)
from aishang.customers.choices import IdType, OccupancyRole
from aishang.customers.imports import COLUMNS, UnitImport, unit_import, unit_import_start, unit_import_template
from aishang.customers.models import Customer, Occupancy
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Building, Entrance, Unit
from aishang.extras.choices import ChangeAction, JobStatus
from aishang.extras.importing import ImportRejected, import_errors_xlsx
from aishang.extras.models import Job, ObjectChange

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in COLUMNS]
GOOD_ID = make_resident_id("19800101", "123")
BAD_CHECK_DIGIT_ID = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")


def unit_row(number, **values):
    row = {"楼栋": "1", "单元": "1", "房号": number, "楼层": 3, "建筑面积": 89.5, "套内面积": 70,
           "户型": "三室两厅", "装修标准": "精装", "房屋状态": "自住", "业态": "住宅"}
    row.update(values)
    return row


def xlsx_file(rows, headers=None, name="房屋.xlsx"):
    headers = headers or list(dict.fromkeys([*HEADERS, *(key for row in rows for key in row)]))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def counts(project):
    return (Unit.objects.filter(project=project).count(), Customer.objects.filter(project=project).count(),
            Building.objects.filter(project=project).count(), Occupancy.objects.filter(unit__project=project).count())


def rejected(project, rows, **kwargs):
    with pytest.raises(ImportRejected) as caught:
        unit_import(project=project, file=xlsx_file(rows, **kwargs))
    return caught.value.errors.as_list()


@pytest.fixture
def project():
    return make_project(make_company())


@pytest.fixture
def admin(project):
    return make_staff(project.company, "admin")


def test_a_good_file_imports_units_owners_buildings_and_their_change_log(project):
    rows = [
        unit_row("301", 业主名称="张三", 手机号="13800138000", 证件类型="居民身份证", 证件号码=GOOD_ID),
        unit_row("302", 套内面积=None, 房屋状态="空置"),
        unit_row("101", 楼栋="2", 单元=None, 楼层=1, 建筑面积="120.456", 业态="商铺", 业主名称="李四"),
    ]

    result = unit_import(project=project, file=xlsx_file(rows))

    assert result["units"] == 3 and result["customers"] == 2 and result["buildings"] == 2
    unit = Unit.objects.get(project=project, code="1-1-301")
    assert (unit.floor, unit.building_area, unit.inner_area, unit.status) == (3, Decimal("89.50"), Decimal("70.00"),
                                                                             UnitStatus.OWNER_OCCUPIED)
    assert unit.entrance.code == "1" and unit.building.code == "1"
    shop = Unit.objects.get(project=project, code="2-101")
    assert shop.entrance is None and shop.building_area == Decimal("120.46") and shop.property_type.name == "商铺"
    assert Building.objects.get(project=project, code="2").property_type.name == "商铺"
    owner = Occupancy.objects.get(unit=unit)
    assert owner.role == OccupancyRole.OWNER and owner.is_payer
    assert (owner.customer.name, owner.customer.id_type, owner.customer.id_number) == ("张三", IdType.RESIDENT_ID,
                                                                                      GOOD_ID)
    assert not Occupancy.objects.filter(unit__code="1-1-302", unit__project=project).exists()
    logged = ObjectChange.objects.filter(project_id=project.pk, action=ChangeAction.CREATE)
    assert logged.filter(object_type__model="unit").count() == 3
    assert logged.filter(object_type__model="customer").count() == 2
    assert logged.filter(object_type__model="occupancy").count() == 2
    assert logged.filter(object_type__model="building").count() == 2
    assert logged.get(object_type__model="unit", object_id=unit.pk).postchange_data["code"] == "1-1-301"


def test_a_wrong_id_check_digit_in_row_7_saves_nothing_and_names_row_7(project, admin):
    make_unit(project)
    before = counts(project)
    rows = [unit_row(str(300 + i), 业主名称=f"业主{i}", 证件类型="居民身份证",
                     证件号码=make_resident_id(serial=f"{i:03d}")) for i in range(1, 9)]
    rows[5]["证件号码"] = BAD_CHECK_DIGIT_ID  # the sixth data row is row 7 in Excel

    job = unit_import_start(project=project, uploaded_file=xlsx_file(rows), actor=admin)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == [{"row": 7, "column": "证件号码", "message": "身份证号校验位错误"}]
    assert job.message == "第 7 行「证件号码」：身份证号校验位错误，未导入任何数据"
    assert counts(project) == before


def test_the_job_records_its_result_and_progress(project, admin):
    job = unit_import_start(project=project, uploaded_file=xlsx_file([unit_row("301", 业主名称="张三")]), actor=admin)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["units"] == 1 and job.result["customers"] == 1 and job.result["buildings"] == 1
    assert job.total and job.done == job.total and job.percent == 100
    assert job.message.startswith("导入完成")
    assert (job.kind, job.company_id, job.project_id, job.created_by_id) == ("unit_import", project.company_id,
                                                                            project.pk, admin.pk)
    assert ObjectChange.objects.filter(object_type__model="unit", user=admin).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_run_outside_any_transaction_finishes_with_its_progress_complete():
    project = make_project(make_company())
    admin = make_staff(project.company, "admin")
    rows = [unit_row(str(100 + i), 业主名称=f"业主{i}") for i in range(30)]

    job = unit_import_start(project=project, uploaded_file=xlsx_file(rows), actor=admin)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.done == job.total and job.result["units"] == 30


def test_a_unit_repeated_in_the_file_is_refused_naming_the_first_row(project):
    errors = rejected(project, [unit_row("301"), unit_row("302"), unit_row("301")])

    assert errors == [{"row": 4, "column": "房号", "message": "房屋 1-1-301 与第 2 行重复"}]
    assert counts(project) == (0, 0, 0, 0)


def test_a_unit_already_in_the_project_is_refused(project):
    building = make_building(project, code="1")
    make_unit(project, building=building, number="301")

    errors = rejected(project, [unit_row("302"), unit_row("301")])

    assert errors == [{"row": 3, "column": "房号", "message": "房屋 1-1-301 在本项目中已存在"}]


def test_existing_buildings_and_entrances_are_reused_not_duplicated(project):
    building = make_building(project, code="1")
    entrance = make_entrance(building, code="1")

    result = unit_import(project=project, file=xlsx_file([unit_row("501"), unit_row("101", 单元="2")]))

    assert result["buildings"] == 0 and result["entrances"] == 1
    assert Unit.objects.get(project=project, code="1-1-501").entrance == entrance
    assert Entrance.objects.filter(building=building).count() == 2


def test_an_unknown_property_type_or_unit_status_is_refused(project):
    errors = rejected(project, [unit_row("301", 业态="别墅"), unit_row("302", 房屋状态="已售")])

    assert [(e["row"], e["column"]) for e in errors] == [(2, "业态"), (3, "房屋状态")]
    assert errors[0]["message"].startswith("“别墅”不是可选的值，可选：住宅、商铺")
    assert "未交付、空置、自住、出租、装修中" in errors[1]["message"]


@pytest.mark.parametrize(("values", "column", "message"), [
    ({"建筑面积": "八十"}, "建筑面积", "应为数字，如 89.50，实际为“八十”"),
    ({"建筑面积": -1}, "建筑面积", "不能为负数"),
    ({"建筑面积": None}, "建筑面积", "必填，不能为空"),
    ({"建筑面积": 80, "套内面积": 90}, "套内面积", "套内面积 90.00 不能大于建筑面积 80.00"),
    ({"楼层": "三楼"}, "楼层", "应为整数，地下层填负数，实际为“三楼”"),
    ({"楼栋": None}, "楼栋", "必填，不能为空"),
])
def test_a_bad_number_or_missing_value_is_refused(project, values, column, message):
    errors = rejected(project, [unit_row("301", **values)])

    assert errors == [{"row": 2, "column": column, "message": message}]


def test_a_bad_mobile_is_refused(project):
    errors = rejected(project, [unit_row("301", 业主名称="张三", 手机号="1380013800")])

    assert errors == [{"row": 2, "column": "手机号", "message": "手机号格式不正确，应为 11 位数字且以 1 开头"}]


def test_an_id_number_excel_turned_into_a_number_is_refused(project):
    errors = rejected(project, [unit_row("301", 业主名称="张三", 证件类型="居民身份证", 证件号码=1.10101198001011e17)])

    assert errors[0]["column"] == "证件号码" and "文本格式" in errors[0]["message"]


def test_owner_details_without_an_owner_name_are_refused(project):
    errors = rejected(project, [unit_row("301", 手机号="13800138000")])

    assert errors == [{"row": 2, "column": "业主名称", "message": "填写了手机号，但没有填写业主名称"}]


def test_unit_custom_fields_are_validated_per_property_type(project):
    company = project.company
    make_custom_field(company, "orientation", label="朝向", field_type="choice", choices=["南", "北"])
    header = "租赁状态（商铺）"  # the standard 商铺 field, named with its property type

    errors = rejected(project, [unit_row("301", 朝向="东"), unit_row("302", **{header: "已出租"})])

    assert errors == [
        {"row": 2, "column": "朝向", "message": "「朝向」的值“东”不在可选项中（南、北）"},
        {"row": 3, "column": header, "message": "仅适用于业态「商铺」，本行业态为「住宅」"},
    ]
    unit_import(project=project, file=xlsx_file([unit_row("101", 朝向="南", 业态="商铺", **{header: "已出租"})]))
    assert Unit.objects.get(project=project, code="1-1-101").custom_field_data == {"orientation": "南",
                                                                                   "lease_status": "已出租"}


def test_a_required_custom_field_missing_from_the_file_is_one_header_error(project):
    make_custom_field(project.company, "orientation", label="朝向", required=True)

    errors = rejected(project, [unit_row("301"), unit_row("302")])

    assert errors == [{"row": 1, "column": "", "message": "缺少必填列：朝向，请使用下载的导入模板"}]


def test_owner_custom_fields_are_stored_on_the_new_customer(project):
    make_custom_field(project.company, "hobby", target="customer", label="兴趣爱好")

    unit_import(project=project, file=xlsx_file([unit_row("301", 业主名称="张三", **{"业主-兴趣爱好": "钓鱼"})]))

    assert Customer.objects.get(project=project, name="张三").custom_field_data == {"hobby": "钓鱼"}


def test_the_same_owner_on_several_rows_becomes_one_customer_with_several_units(project):
    rows = [
        unit_row("301", 业主名称="张三", 手机号="13800138000"),
        unit_row("302", 业主名称="张三", 手机号="13800138000", 证件号码=GOOD_ID),
        unit_row("303", 业主名称="张三", 证件号码=GOOD_ID),
        unit_row("304", 业主名称="张三", 手机号="13900139000"),
    ]

    result = unit_import(project=project, file=xlsx_file(rows))

    assert result["customers"] == 2
    zhang = Customer.objects.get(project=project, mobile="13800138000")
    assert zhang.id_number == GOOD_ID and zhang.id_type == IdType.RESIDENT_ID
    assert sorted(zhang.occupancies.values_list("unit__number", flat=True)) == ["301", "302", "303"]


def test_an_owner_already_in_the_project_is_reused_by_id_number_or_name_and_mobile(project):
    by_id = make_customer(project, name="张三", mobile="", id_type=IdType.RESIDENT_ID, id_number=GOOD_ID)
    by_contact = make_customer(project, name="李四", mobile="13900139000")
    before = Customer.objects.count()

    result = unit_import(project=project, file=xlsx_file([
        unit_row("301", 业主名称="张三", 证件号码=GOOD_ID, 手机号="13800138000"),
        unit_row("302", 业主名称="李四", 手机号="13900139000"),
    ]))

    assert result["customers"] == 0 and result["reused_customers"] == 2
    assert Customer.objects.count() == before
    assert by_id.occupancies.get().unit.number == "301"
    assert by_contact.occupancies.get().unit.number == "302"
    assert Customer.objects.get(pk=by_id.pk).mobile == ""  # an existing customer is linked, not edited


def test_an_id_number_of_a_differently_named_customer_is_refused(project):
    make_customer(project, name="张三", id_type=IdType.RESIDENT_ID, id_number=GOOD_ID)

    errors = rejected(project, [unit_row("301", 业主名称="张山", 证件号码=GOOD_ID)])

    assert errors == [{"row": 2, "column": "业主名称",
                       "message": "证件号码与本项目已有客户「张三」相同，但业主名称不同"}]


def test_a_missing_required_column_is_one_clear_error(project):
    headers = [h for h in HEADERS if h not in ("房号", "业态")]

    errors = rejected(project, [unit_row("301")], headers=headers)

    assert errors == [{"row": 1, "column": "", "message": "缺少必填列：房号、业态，请使用下载的导入模板"}]


def test_an_unknown_column_is_refused(project):
    errors = rejected(project, [unit_row("301", 车位="A-1")])

    assert errors == [{"row": 1, "column": "车位", "message": "无法识别的列，请使用下载的导入模板中的列名"}]


def test_an_empty_file_is_refused(project):
    errors = rejected(project, [])

    assert errors == [{"row": None, "column": "", "message": "文件中没有房屋数据（表头下方为空）"}]


def test_the_error_list_is_capped_and_counts_the_rest(project):
    rows = [unit_row(str(i), 业态="别墅") for i in range(600)]

    errors = rejected(project, rows)

    assert len(errors) == 501
    assert errors[-1] == {"row": None, "column": "",
                          "message": "另有 100 处错误未列出，请先修改以上错误后重新导入"}


def test_the_errors_download_lists_row_column_and_reason(project, admin):
    rows = [unit_row("301", 业主名称="张三", 证件类型="居民身份证", 证件号码=BAD_CHECK_DIGIT_ID)]
    job = unit_import_start(project=project, uploaded_file=xlsx_file(rows), actor=admin)
    job.refresh_from_db()

    sheet = load_workbook(io.BytesIO(import_errors_xlsx(job))).active

    assert list(sheet.iter_rows(values_only=True)) == [("行号", "列", "错误原因"),
                                                       (2, "证件号码", "身份证号校验位错误")]


def test_a_file_that_is_not_xlsx_is_refused_before_any_job_is_created(project, admin):
    with pytest.raises(ValidationError) as caught:
        unit_import_start(project=project, uploaded_file=SimpleUploadedFile("房屋.xlsx", b"not a workbook"),
                          actor=admin)

    assert caught.value.message_dict["file"] == ["无法读取该文件，请上传 Excel（.xlsx）文件，建议使用下载的导入模板"]
    assert not Job.objects.exists()


def test_the_template_has_the_headers_drop_downs_and_a_guide(project):
    make_custom_field(project.company, "hobby", target="customer", label="兴趣爱好")

    workbook = load_workbook(io.BytesIO(unit_import_template(project)))

    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:14] == HEADERS
    assert "租赁状态（商铺）" in headers and headers[-1] == "业主-兴趣爱好"
    assert sheet.max_row == 1
    validated = {str(v.sqref).split(":")[0] for v in sheet.data_validations.dataValidation}
    letters = {header: cell.column_letter for header, cell in zip(headers, sheet[1], strict=True)}
    assert {f"{letters[h]}2" for h in ("房屋状态", "业态", "证件类型", "租赁状态（商铺）")} <= validated
    guide = {row[0]: row for row in workbook["填写说明"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert guide["房屋状态"][2].startswith("可选：未交付、空置、自住、出租、装修中")
    assert "居民身份证" in guide["证件类型"][2] and guide["楼栋"][1] == "必填"


def test_a_filled_in_template_imports(project):
    workbook = load_workbook(io.BytesIO(unit_import_template(project)))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    row = unit_row("301", 业主名称="张三", 证件类型="居民身份证", 证件号码=GOOD_ID)
    sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)

    importer = UnitImport(project).read(io.BytesIO(buffer.getvalue()))

    assert importer.save()["units"] == 1


# API ---------------------------------------------------------------------------------------

def test_the_api_accepts_an_upload_and_answers_202_with_the_job(project, admin):
    client = api_client(admin)

    response = client.post("/api/v1/imports/units/", {"project": project.pk,
                                                      "file": xlsx_file([unit_row("301", 业主名称="张三")])},
                           format="multipart")

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "succeeded" and job["result"]["units"] == 1
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert client.get("/api/v1/jobs/").json()["results"][0]["id"] == job["id"]
    assert client.get(f"/api/v1/jobs/{job['id']}/").json()["percent"] == 100


def test_the_api_reports_row_errors_on_the_job(project, admin):
    client = api_client(admin)
    rows = [unit_row("301", 业主名称="张三", 证件类型="居民身份证", 证件号码=BAD_CHECK_DIGIT_ID)]

    job_id = client.post("/api/v1/imports/units/", {"project": project.pk, "file": xlsx_file(rows)},
                         format="multipart").json()["id"]

    detail = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert detail["status"] == "failed" and detail["error_count"] == 1
    assert detail["errors"] == [{"row": 2, "column": "证件号码", "message": "身份证号校验位错误"}]
    download = client.get(f"/api/v1/jobs/{job_id}/errors/")
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(download.content)).active["C2"].value == "身份证号校验位错误"


def test_the_api_refuses_a_file_that_is_not_xlsx_with_400(project, admin):
    response = api_client(admin).post("/api/v1/imports/units/", {
        "project": project.pk, "file": SimpleUploadedFile("units.csv", b"a,b,c")}, format="multipart")

    assert response.status_code == 400
    assert "xlsx" in response.json()["file"][0]
    assert not Job.objects.exists()


def test_a_user_of_project_a_cannot_import_into_project_b(project):
    other = make_project(project.company)
    clerk = make_staff(project.company, "admin", projects=[project])
    client = api_client(clerk)

    response = client.post("/api/v1/imports/units/", {"project": other.pk, "file": xlsx_file([unit_row("301")])},
                           format="multipart")

    assert response.status_code == 404
    assert client.get("/api/v1/imports/units/template/", {"project": other.pk}).status_code == 404
    assert not Unit.objects.filter(project=other).exists() and not Job.objects.exists()


def test_a_user_without_the_import_permission_is_refused(project):
    steward = make_staff(project.company, "steward", projects=[project])

    response = api_client(steward).post("/api/v1/imports/units/", {"project": project.pk,
                                                                   "file": xlsx_file([unit_row("301")])},
                                        format="multipart")

    assert response.status_code == 403
    assert not Unit.objects.filter(project=project).exists()


def test_nobody_sees_another_users_job(project, admin):
    job = unit_import_start(project=project, uploaded_file=xlsx_file([unit_row("301")]), actor=admin)
    colleague = make_staff(project.company, "admin")
    client = api_client(colleague)

    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{job.pk}/errors/").status_code == 404
    assert client.get("/api/v1/jobs/").json()["count"] == 0


def test_the_template_download_opens_with_the_right_headers(project, admin):
    response = api_client(admin).get("/api/v1/imports/units/template/", {"project": project.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]][:14] == HEADERS


def test_the_template_needs_a_project(admin):
    assert api_client(admin).get("/api/v1/imports/units/template/").status_code == 400


# Pages -------------------------------------------------------------------------------------

@pytest.fixture
def browser(client, admin):
    client.force_login(admin)
    return client


def test_the_import_page_lists_the_permitted_projects_and_links_the_template(project):
    other = make_project(project.company)
    clerk = make_staff(project.company, "admin", projects=[project])
    client = Client()
    client.force_login(clerk)

    page = client.get("/customers/import/units/").content.decode()

    assert project.name in page and other.name not in page
    assert f"/customers/import/units/template/?project={project.pk}" in page


def test_uploading_on_the_page_starts_the_job_and_redirects_to_its_progress(project, browser):
    response = browser.post("/customers/import/units/", {"project": project.pk,
                                                      "file": xlsx_file([unit_row("301", 业主名称="张三")])})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/system/jobs/{job.pk}/"
    page = browser.get(response["Location"]).content.decode()
    assert "导入完成" in page and "hx-trigger" not in page
    assert Unit.objects.filter(project=project, code="1-1-301").exists()


def test_a_file_that_is_not_xlsx_is_refused_on_the_page(project, browser):
    response = browser.post("/customers/import/units/", {"project": project.pk,
                                                      "file": SimpleUploadedFile("房屋.xls", b"\xd0\xcf\x11\xe0")})

    assert response.status_code == 200
    assert "另存为 .xlsx" in response.content.decode()
    assert not Job.objects.exists()


def test_the_job_page_shows_the_row_errors_and_offers_them_as_a_download(project, admin, browser):
    rows = [unit_row("301", 业主名称="张三", 证件类型="居民身份证", 证件号码=BAD_CHECK_DIGIT_ID)]
    job = unit_import_start(project=project, uploaded_file=xlsx_file(rows), actor=admin)

    page = browser.get(f"/system/jobs/{job.pk}/").content.decode()
    download = browser.get(f"/system/jobs/{job.pk}/errors.xlsx")

    assert "身份证号校验位错误" in page and "证件号码" in page and "下载错误明细" in page
    assert load_workbook(io.BytesIO(download.content)).active["A2"].value == 2


def test_the_progress_partial_keeps_polling_only_while_the_job_runs(project, admin, browser):
    job = Job.objects.create(kind="unit_import", title="导入", project=project, company=project.company,
                             created_by=admin, total=10, done=4, status=JobStatus.RUNNING, message="正在校验第 5 行")

    poll = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "job-status"}

    running = browser.get(f"/system/jobs/{job.pk}/", **poll).content.decode()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, done=10, message="导入完成")
    finished = browser.get(f"/system/jobs/{job.pk}/", **poll).content.decode()

    assert 'hx-trigger="every 1s"' in running and 'aria-valuenow="40"' in running and "<html" not in running
    assert "hx-trigger" not in finished and 'aria-valuenow="100"' in finished


def test_another_users_job_page_is_not_found(project, admin):
    job = unit_import_start(project=project, uploaded_file=xlsx_file([unit_row("301")]), actor=admin)
    client = Client()
    client.force_login(make_staff(project.company, "admin"))

    assert client.get(f"/system/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/system/jobs/{job.pk}/errors.xlsx").status_code == 404


def test_the_import_page_needs_the_import_permission(project, client):
    client.force_login(make_staff(project.company, "steward", projects=[project]))

    assert client.get("/customers/import/units/").status_code == 403


def test_the_template_download_page_stays_within_the_users_projects(project):
    other = make_project(project.company)
    client = Client()
    client.force_login(make_staff(project.company, "admin", projects=[project]))

    refused = client.get("/customers/import/units/template/", {"project": other.pk})
    served = client.get("/customers/import/units/template/", {"project": project.pk})

    assert refused.status_code == 302 and refused["Location"] == "/customers/import/units/"
    assert served.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(served.content)).worksheets[0][1]][:14] == HEADERS


def test_my_jobs_page_lists_my_jobs_only(project, admin, browser):
    mine = unit_import_start(project=project, uploaded_file=xlsx_file([unit_row("301")]), actor=admin)
    theirs = unit_import_start(project=project, uploaded_file=xlsx_file([unit_row("302")]),
                               actor=make_staff(project.company, "admin"))

    page = browser.get("/system/jobs/").content.decode()

    assert f"/system/jobs/{mine.pk}/" in page and f"/system/jobs/{theirs.pk}/" not in page


def test_the_import_benchmark_reports_its_ratio_and_leaves_nothing_behind():
    out = io.StringIO()
    before = (Unit.objects.count(), Customer.objects.count(), Job.objects.count())

    call_command("bench_import", rows=300, stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("database: ") and "rows/s" in lines[1]
    assert lines[-1].startswith("ratio: ") and float(lines[-1].removeprefix("ratio: ")) > 0
    assert (Unit.objects.count(), Customer.objects.count(), Job.objects.count()) == before
