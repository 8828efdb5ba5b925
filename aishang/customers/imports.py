"""Import units and their owners from a spreadsheet: every row or none.

Phase 1 reads every row into unsaved objects and collects row-numbered errors. Phase 2 runs
only when there are none: one transaction of batched inserts, each batch with its change log.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from aishang.core.validators import validate_mobile, validate_resident_id
from aishang.customers.choices import CustomerKind, IdType, OccupancyRole, Relation
from aishang.customers.models import Customer, Occupancy
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Building, Entrance, PropertyType, Unit, unit_code
from aishang.extras.audit import audit_record
from aishang.extras.changelog import record_bulk_create
from aishang.extras.choices import AuditKind, CustomFieldTarget, CustomFieldType
from aishang.extras.import_jobs import project_import_job, run_project_import
from aishang.extras.importing import (
    MAX_ROWS,
    ImportRejected,
    RowErrors,
    SheetReader,
    cell_text,
    normalize_header,
    workbook_bytes,
)
from aishang.extras.jobs import job_enqueue, job_runner
from aishang.extras.models import CustomField

JOB_KIND = "unit_import"
BATCH_SIZE = 2000
TEMPLATE_ROWS = MAX_ROWS

BUILDING, ENTRANCE, NUMBER, FLOOR = "楼栋", "单元", "房号", "楼层"
BUILDING_AREA, INNER_AREA, LAYOUT, DECORATION = "建筑面积", "套内面积", "户型", "装修标准"
STATUS, PROPERTY_TYPE = "房屋状态", "业态"
OWNER_NAME, MOBILE, ID_TYPE, ID_NUMBER = "业主名称", "手机号", "证件类型", "证件号码"
OWNER_PREFIX = "业主-"
OWNER_COLUMNS = (OWNER_NAME, MOBILE, ID_TYPE, ID_NUMBER)

# Names clerks use in their own sheets for the same columns.
HEADER_ALIASES = {"楼栋号": BUILDING, "单元号": ENTRANCE, "房间号": NUMBER, "业主姓名": OWNER_NAME,
                  "手机号码": MOBILE, "证件号": ID_NUMBER}

AREA_STEP = Decimal("0.01")
AREA_LIMIT = Decimal("100000000")
FLOOR_RANGE = (-99, 999)


def _area_text(text):
    return text.replace(",", "").replace("㎡", "")


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    note: str
    text: bool = False  # formatted as text in the template so Excel keeps leading zeros and long digits
    width: int = 12


COLUMNS = (
    Column(BUILDING, True, "楼栋编号，如 1、A座；项目中没有的楼栋会自动建立", text=True),
    Column(ENTRANCE, False, "单元编号，如 1、2；不分单元的楼栋留空；没有的单元会自动建立", text=True),
    Column(NUMBER, True, "房号，如 301、0101。房屋编码为 楼栋-单元-房号（如 1-2-301），在项目内不能重复", text=True),
    Column(FLOOR, True, "整数，地下层填负数，如 -1"),
    Column(BUILDING_AREA, True, "单位：平方米，不小于 0，保留两位小数"),
    Column(INNER_AREA, False, "单位：平方米，不能大于建筑面积"),
    Column(LAYOUT, False, "如 三室两厅，不超过 30 个字"),
    Column(DECORATION, False, "如 毛坯、简装、精装，不超过 30 个字"),
    Column(STATUS, False, "", width=12),
    Column(PROPERTY_TYPE, True, "", width=12),
    Column(OWNER_NAME, False, "留空表示该房屋暂无业主。同一业主（证件号码相同，或业主名称与手机号都相同）"
                              "拥有多套房屋时，每套各填一行，只建一个客户档案；本项目已有的客户直接关联，不会修改其资料",
           width=16),
    Column(MOBILE, False, "11 位手机号", text=True, width=14),
    Column(ID_TYPE, False, "", width=14),
    Column(ID_NUMBER, False, "居民身份证须为 18 位且校验位正确。请保持该列为文本格式，"
                             "否则 Excel 会把长数字改成科学计数法", text=True, width=22),
)
COLUMN_BY_HEADER = {c.header: c for c in COLUMNS}


def _labels(choices):
    return {str(label): value for value, label in choices}


STATUS_BY_LABEL = _labels(UnitStatus.choices)
ID_TYPE_BY_LABEL = _labels(IdType.choices)


@dataclass
class CustomColumn:
    header: str
    field: CustomField

    @property
    def for_owner(self):
        return self.field.target == CustomFieldTarget.CUSTOMER


def custom_columns(company):
    """One column per unit field (with its 业态 when type-specific), then one per owner field."""
    used = set(COLUMN_BY_HEADER) | set(HEADER_ALIASES)
    columns = []
    unit_fields = CustomField.objects.for_target(company.pk, CustomFieldTarget.UNIT).select_related("property_type")
    customer_fields = CustomField.objects.for_target(company.pk, CustomFieldTarget.CUSTOMER)
    for field in [*unit_fields, *customer_fields]:
        if field.target == CustomFieldTarget.CUSTOMER:
            header = f"{OWNER_PREFIX}{field.label}"
        elif field.property_type_id:
            header = f"{field.label}（{field.property_type.name}）"
        else:
            header = field.label
        header = normalize_header(header)
        if header in used:
            header = f"{header}[{field.name}]"
        used.add(header)
        columns.append(CustomColumn(header, field))
    return columns


def _custom_note(field):
    kind = field.field_type
    notes = {
        CustomFieldType.TEXT: "文字，不超过 500 个字",
        CustomFieldType.INTEGER: "整数",
        CustomFieldType.DECIMAL: "数字",
        CustomFieldType.DATE: "日期，如 2026-11-23",
        CustomFieldType.BOOLEAN: "填 是 或 否",
        CustomFieldType.CHOICE: f"可选：{'、'.join(field.choices)}",
        CustomFieldType.MULTI_CHOICE: f"可多选，用顿号（、）分隔：{'、'.join(field.choices)}",
    }
    parts = []
    if field.target == CustomFieldTarget.CUSTOMER:
        parts.append("业主的自定义字段，有业主时填写")
    elif field.property_type_id:
        parts.append(f"仅业态为「{field.property_type.name}」的房屋填写")
    parts.append(notes.get(kind, ""))
    if field.help_text:
        parts.append(field.help_text)
    return "；".join(p for p in parts if p)


def unit_import_template(project):
    """The xlsx a clerk fills in: headers with drop-downs, a 填写说明 sheet, no sample data."""
    company = project.company
    type_names = list(PropertyType.objects.filter(company=company).values_list("name", flat=True))
    notes = {
        STATUS: f"可选：{'、'.join(STATUS_BY_LABEL)}；留空为 {UnitStatus.VACANT.label}",
        PROPERTY_TYPE: f"可选：{'、'.join(type_names)}",
        ID_TYPE: f"可选：{'、'.join(ID_TYPE_BY_LABEL)}；填写了证件号码而未选证件类型时按居民身份证处理",
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "房屋及业主"
    guide = workbook.create_sheet("填写说明")
    options = workbook.create_sheet("选项")
    options.sheet_state = "hidden"

    required_fill = PatternFill("solid", fgColor="FDE9D9")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    lists = {STATUS: list(STATUS_BY_LABEL), PROPERTY_TYPE: type_names, ID_TYPE: list(ID_TYPE_BY_LABEL)}
    guide_rows = []
    headers = []
    for column in COLUMNS:
        headers.append((column.header, column.required, column.text, column.width))
        note = notes.get(column.header) or column.note
        guide_rows.append((column.header, "必填" if column.required else "选填", note))
    for custom in custom_columns(company):
        field = custom.field
        headers.append((custom.header, field.required and not field.property_type_id and not custom.for_owner,
                        field.field_type == CustomFieldType.TEXT, max(12, len(custom.header) * 2 + 2)))
        required = "必填" if field.required else "选填"
        if field.required and (custom.for_owner or field.property_type_id):
            required = "有业主时必填" if custom.for_owner else f"「{field.property_type.name}」必填"
        guide_rows.append((custom.header, required, _custom_note(field)))
        if field.field_type == CustomFieldType.CHOICE:
            lists[custom.header] = list(field.choices)
        elif field.field_type == CustomFieldType.BOOLEAN:
            lists[custom.header] = ["是", "否"]

    list_column = 0
    for index, (header, required, is_text, width) in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = required_fill if required else header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        if is_text:
            sheet.column_dimensions[letter].number_format = "@"
        values = lists.get(header)
        if values:
            list_column += 1
            list_letter = get_column_letter(list_column)
            options.cell(row=1, column=list_column, value=header)
            for row, value in enumerate(values, start=2):
                options.cell(row=row, column=list_column, value=value)
            validation = DataValidation(
                type="list", allow_blank=True, showErrorMessage=True, errorTitle="输入有误",
                error=f"「{header}」请从下拉列表中选择",
                formula1=f"{quote_sheetname(options.title)}!${list_letter}$2:${list_letter}${len(values) + 1}",
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    guide.append(["列名", "是否必填", "填写说明"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for row in guide_rows:
        guide.append(list(row))
    guide.append([])
    for line in (
        f"项目：{project.name}（{project.code}）。每行一套房屋，表头请勿修改；标红底色的列为必填。",
        "整份文件要么全部导入，要么都不导入：有任何一处错误时不会保存任何数据，请按错误明细修改后重新上传。",
        f"单次最多导入 {MAX_ROWS} 行。",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 14
    guide.column_dimensions["C"].width = 90
    for row in guide.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    return workbook_bytes(workbook)


@dataclass
class _Owner:
    customer: Customer
    row: int | None  # the row that introduced this owner; None for a customer already in the project


class UnitImport(SheetReader):
    """Reads a sheet into unsaved buildings, entrances, units, customers and occupancies."""

    header_aliases = HEADER_ALIASES
    no_rows_message = "文件中没有房屋数据（表头下方为空）"

    def __init__(self, project, progress=None):
        super().__init__(progress)
        self.project = project
        self.company = project.company
        self.property_types = {t.name: t for t in PropertyType.objects.filter(company=self.company)}
        self.custom = custom_columns(self.company)
        self.buildings = {b.code: b for b in Building.objects.filter(project=project)}
        codes_by_id = {b.pk: code for code, b in self.buildings.items()}
        self.entrances = {(codes_by_id[e.building_id], e.code): e
                          for e in Entrance.objects.filter(project=project) if e.building_id in codes_by_id}
        self.existing_codes = set(Unit.objects.filter(project=project).values_list("code", flat=True))
        self.code_rows = {}
        self.owner_by_id, self.owner_by_contact = {}, {}
        for pk, name, mobile, id_number in (Customer.objects.filter(project=project).order_by("pk")
                                            .values_list("pk", "name", "mobile", "id_number")):
            owner = _Owner(Customer(pk=pk, project=project, name=name, mobile=mobile, id_number=id_number), None)
            if id_number:
                self.owner_by_id.setdefault(id_number.upper(), owner)
            self.owner_by_contact.setdefault((name, mobile), owner)
        self.new_buildings, self.new_entrances, self.units, self.new_customers, self.occupancies = [], [], [], [], []
        self.building_types = {}
        self.reused_customers = set()

    # Phase 1 -----------------------------------------------------------------------------

    def read(self, file):
        self.read_file(file)
        if self.errors:
            raise ImportRejected(self.errors)
        for building in self.new_buildings:
            types = self.building_types.get(building.code, set())
            if len(types) == 1:
                building.property_type = types.pop()
        return self

    def known_headers(self):
        return set(COLUMN_BY_HEADER) | {c.header for c in self.custom}

    def required_headers(self):
        return [*(c.header for c in COLUMNS if c.required),
                *(c.header for c in self.custom if c.field.required and not c.field.property_type_id
                  and (not c.for_owner or OWNER_NAME in self.positions))]

    def read_headers(self, row, values):
        readable = super().read_headers(row, values)
        self.unit_columns = [c for c in self.custom if not c.for_owner]
        self.owner_columns = [c for c in self.custom if c.for_owner and c.header in self.positions]
        return readable

    def _decimal(self, cells, header, row, required=False):
        value = self.decimal(cells, header, row, required=required, clean=_area_text,
                             invalid="应为数字，如 89.50，实际为“%(text)s”")
        if value is None:
            return None
        if value < 0:
            self.errors.add(row, header, "不能为负数")
            return None
        value = value.quantize(AREA_STEP, rounding=ROUND_HALF_UP)
        if value >= AREA_LIMIT:
            self.errors.add(row, header, "数值过大")
            return None
        return value

    def _floor(self, cells, row):
        raw = self.raw(cells, FLOOR)
        text = cell_text(raw).removesuffix("层")
        if not text:
            self.errors.add(row, FLOOR, "必填，不能为空")
            return None
        if not re.fullmatch(r"-?\d+", text):
            self.errors.add(row, FLOOR, f"应为整数，地下层填负数，实际为“{text}”")
            return None
        value = int(text)
        if not FLOOR_RANGE[0] <= value <= FLOOR_RANGE[1]:
            self.errors.add(row, FLOOR, f"应在 {FLOOR_RANGE[0]} 到 {FLOOR_RANGE[1]} 之间")
            return None
        return value

    def _choice(self, cells, header, row, options, default=None, required=False):
        text = self.text(cells, header)
        if not text:
            if required:
                self.errors.add(row, header, "必填，不能为空")
            return default
        if text not in options:
            self.errors.add(row, header, f"“{text}”不是可选的值，可选：{'、'.join(options)}")
            return None
        return options[text]

    def _custom_value(self, cells, column, row, *, required=True):
        raw = self.raw(cells, column.header)
        value = raw if isinstance(raw, datetime.date) else cell_text(raw)
        if not required and value == "":
            return None
        try:
            return column.field.clean_value(value)
        except ValidationError as exc:
            self.errors.add(row, column.header, exc.messages[0])
            return None

    def _unit_custom_data(self, cells, row, property_type):
        data = {}
        for column in self.unit_columns:
            field = column.field
            present = column.header in self.positions
            if field.property_type_id and (property_type is None or field.property_type_id != property_type.pk):
                if present and property_type is not None and cell_text(self.raw(cells, column.header)):
                    self.errors.add(row, column.header,
                                    f"仅适用于业态「{field.property_type.name}」，本行业态为「{property_type.name}」")
                continue
            if not present:
                if field.required and property_type is not None:
                    self.errors.add(row, column.header,
                                    f"业态「{property_type.name}」的房屋必须填写，请在文件中加入该列")
                continue
            value = self._custom_value(cells, column, row)
            if value is not None:
                data[field.name] = value
        return data

    def read_row(self, row, cells):
        errors_before = self.errors.count
        building_code = self.text(cells, BUILDING, row, 20, required=True)
        entrance_code = self.text(cells, ENTRANCE, row, 20)
        number = self.text(cells, NUMBER, row, 20, required=True)
        floor = self._floor(cells, row)
        building_area = self._decimal(cells, BUILDING_AREA, row, required=True)
        inner_area = self._decimal(cells, INNER_AREA, row)
        if building_area is not None and inner_area is not None and inner_area > building_area:
            self.errors.add(row, INNER_AREA, f"套内面积 {inner_area} 不能大于建筑面积 {building_area}")
        layout = self.text(cells, LAYOUT, row, 30)
        decoration = self.text(cells, DECORATION, row, 30)
        status = self._choice(cells, STATUS, row, STATUS_BY_LABEL, default=UnitStatus.VACANT)
        property_type = self._choice(cells, PROPERTY_TYPE, row, self.property_types, required=True)
        custom_data = self._unit_custom_data(cells, row, property_type)
        code = self._unit_code(row, building_code, entrance_code, number)
        owner = self._read_owner(cells, row)
        if self.errors.count > errors_before:
            return
        building = self.buildings.get(building_code)
        if building is None:
            building = self.buildings[building_code] = Building(project=self.project, code=building_code)
            self.new_buildings.append(building)
        if building.pk is None:
            self.building_types.setdefault(building_code, set()).add(property_type)
        entrance = None
        if entrance_code:
            entrance = self.entrances.get((building_code, entrance_code))
            if entrance is None:
                entrance = Entrance(project=self.project, building=building, code=entrance_code)
                self.entrances[(building_code, entrance_code)] = entrance
                self.new_entrances.append(entrance)
        unit = Unit(project=self.project, building=building, entrance=entrance, number=number, code=code,
                    floor=floor, property_type=property_type, building_area=building_area, inner_area=inner_area,
                    layout=layout, decoration=decoration, status=status, custom_field_data=custom_data)
        self.units.append(unit)
        if owner is not None:
            if owner.row is None:
                self.reused_customers.add(owner.customer.pk)
            self.occupancies.append(Occupancy(unit=unit, customer=owner.customer, role=OccupancyRole.OWNER,
                                              relation=Relation.SELF, is_payer=True))

    def _unit_code(self, row, building_code, entrance_code, number):
        if not (building_code and number):
            return None
        code = unit_code(building_code, entrance_code, number)
        if len(code) > Unit._meta.get_field("code").max_length:
            self.errors.add(row, NUMBER, f"房屋编码 {code} 超过 60 个字")
        elif code in self.existing_codes:
            self.errors.add(row, NUMBER, f"房屋 {code} 在本项目中已存在")
        elif code in self.code_rows:
            self.errors.add(row, NUMBER, f"房屋 {code} 与第 {self.code_rows[code]} 行重复")
        else:
            self.code_rows[code] = row
        return code

    def _read_owner(self, cells, row):
        errors_before = self.errors.count
        name = self.text(cells, OWNER_NAME)
        mobile = re.sub(r"[\s-]", "", self.text(cells, MOBILE))
        id_type_text = self.text(cells, ID_TYPE)
        raw_id = self.raw(cells, ID_NUMBER)
        id_number = re.sub(r"\s", "", cell_text(raw_id)).upper()
        if not name:
            given = [h for h, v in ((MOBILE, mobile), (ID_TYPE, id_type_text), (ID_NUMBER, id_number)) if v]
            given += [c.header for c in self.owner_columns if cell_text(self.raw(cells, c.header))]
            if given:
                self.errors.add(row, OWNER_NAME, f"填写了{'、'.join(given)}，但没有填写业主名称")
            return None
        if len(name) > 100:
            self.errors.add(row, OWNER_NAME, "不能超过 100 个字")
        if mobile:
            try:
                validate_mobile(mobile)
            except ValidationError as exc:
                self.errors.add(row, MOBILE, exc.messages[0])
        id_type = ""
        if id_type_text:
            id_type = ID_TYPE_BY_LABEL.get(id_type_text)
            if id_type is None:
                self.errors.add(row, ID_TYPE, f"“{id_type_text}”不是可选的值，可选：{'、'.join(ID_TYPE_BY_LABEL)}")
        if id_number:
            id_type = id_type if id_type_text else IdType.RESIDENT_ID
            self._check_id_number(row, raw_id, id_type, id_number)
        custom_values = {}
        for column in self.owner_columns:
            value = self._custom_value(cells, column, row, required=False)
            if value is not None:
                custom_values[column.field.name] = value
        if self.errors.count > errors_before:
            return None
        return self._match_owner(row, name, mobile, id_type or "", id_number, custom_values)

    def _check_id_number(self, row, raw, id_type, id_number):
        if isinstance(raw, float):
            self.errors.add(row, ID_NUMBER, "被 Excel 存成了数字，末几位可能已丢失，请把该列设为文本格式后重新填写")
        elif len(id_number) > 30:
            self.errors.add(row, ID_NUMBER, "不能超过 30 个字")
        elif id_type == IdType.RESIDENT_ID:
            try:
                validate_resident_id(id_number)
            except ValidationError as exc:
                self.errors.add(row, ID_NUMBER, exc.messages[0])
        elif id_type == IdType.BUSINESS_LICENSE and len(id_number) != 18:
            self.errors.add(row, ID_NUMBER, "统一社会信用代码应为 18 位")

    def _match_owner(self, row, name, mobile, id_type, id_number, custom_values):
        owner = self.owner_by_id.get(id_number) if id_number else None
        if owner is not None:
            if owner.customer.name != name:
                where = f"第 {owner.row} 行的业主" if owner.row else "本项目已有客户"
                self.errors.add(row, OWNER_NAME, f"证件号码与{where}「{owner.customer.name}」相同，但业主名称不同")
                return None
        else:
            owner = self.owner_by_contact.get((name, mobile))
            if owner is not None and id_number and owner.customer.id_number \
                    and owner.customer.id_number.upper() != id_number:
                where = f"第 {owner.row} 行" if owner.row else "本项目已有客户"
                self.errors.add(row, ID_NUMBER, f"业主名称和手机号与{where}相同，但证件号码不同")
                return None
        if owner is None:
            return self._new_owner(row, name, mobile, id_type, id_number, custom_values)
        if owner.row is not None:
            self._merge_owner(row, owner, mobile, id_type, id_number, custom_values)
        return owner

    def _new_owner(self, row, name, mobile, id_type, id_number, custom_values):
        for column in self.owner_columns:
            if column.field.required and column.field.name not in custom_values:
                self.errors.add(row, column.header, f"「{column.field.label}」为必填项")
        kind = CustomerKind.ORGANIZATION if id_type == IdType.BUSINESS_LICENSE else CustomerKind.PERSON
        customer = Customer(project=self.project, kind=kind, name=name, mobile=mobile, id_type=id_type,
                            id_number=id_number, custom_field_data=custom_values)
        owner = _Owner(customer, row)
        self.new_customers.append(customer)
        if id_number:
            self.owner_by_id[id_number] = owner
        self.owner_by_contact.setdefault((name, mobile), owner)
        return owner

    def _merge_owner(self, row, owner, mobile, id_type, id_number, custom_values):
        """A later row of the same owner may add what the first left out, but not contradict it."""
        customer = owner.customer
        for header, attname, value in ((MOBILE, "mobile", mobile), (ID_NUMBER, "id_number", id_number)):
            current = getattr(customer, attname)
            if value and current and current != value:
                self.errors.add(row, header, f"与第 {owner.row} 行同一业主的{header}不一致")
            elif value and not current:
                setattr(customer, attname, value)
                if attname == "id_number":
                    customer.id_type = id_type
                    self.owner_by_id[value] = owner
                else:
                    self.owner_by_contact.setdefault((customer.name, value), owner)
        for column in self.owner_columns:
            name = column.field.name
            if name not in custom_values:
                continue
            current = customer.custom_field_data.get(name)
            if current is not None and current != custom_values[name]:
                self.errors.add(row, column.header, f"与第 {owner.row} 行同一业主的「{column.field.label}」不一致")
            else:
                customer.custom_field_data[name] = custom_values[name]

    # Phase 2 -----------------------------------------------------------------------------

    def save(self, actor=None):
        groups = ((Building, self.new_buildings), (Entrance, self.new_entrances), (Unit, self.units),
                  (Customer, self.new_customers), (Occupancy, self.occupancies))
        total = self.row_count + sum(len(objects) for _, objects in groups)
        done = self.row_count
        self.progress(done, total, f"校验通过，正在写入 {len(self.units)} 套房屋")
        with transaction.atomic():
            for model, objects in groups:
                for start in range(0, len(objects), BATCH_SIZE):
                    batch = objects[start:start + BATCH_SIZE]
                    model.objects.bulk_create(batch)
                    record_bulk_create(batch)
                    done += len(batch)
                    self.progress(done, total, f"正在写入{model._meta.verbose_name}")
            result = self.summary()
            audit_record(kind=AuditKind.IMPORT, user=actor, model=Unit, company_id=self.company.pk,
                         detail={"project_id": self.project.pk, **result})
        return result

    def summary(self):
        return {"units": len(self.units), "customers": len(self.new_customers), "buildings": len(self.new_buildings),
                "entrances": len(self.new_entrances), "occupancies": len(self.occupancies),
                "reused_customers": len(self.reused_customers)}


def unit_import(*, project, file, actor=None, progress=None):
    """Validate the whole file, then save all of it; raises ``ImportRejected`` and saves nothing if any row is bad."""
    importer = UnitImport(project, progress=progress).read(file)
    try:
        return importer.save(actor=actor)
    except IntegrityError:
        errors = RowErrors()
        errors.add(None, "", "保存时发现与他人刚保存的数据冲突（如同时导入了相同房屋），请重新导入")
        raise ImportRejected(errors) from None


@job_runner(JOB_KIND)
def run_unit_import(job):
    result = run_project_import(job, lambda project, file, progress: unit_import(
        project=project, file=file, actor=job.created_by, progress=progress))
    job.message = (f"导入完成：房屋 {result['units']} 套，新建客户 {result['customers']} 个，"
                   f"新建楼栋 {result['buildings']} 栋")
    return result


def unit_import_start(*, project, uploaded_file, actor):
    """Check the upload is a readable xlsx, record it as a job and start the import."""
    return job_enqueue(project_import_job(kind=JOB_KIND, title=f"导入房屋及业主：{project.name}", project=project,
                                          uploaded_file=uploaded_file, actor=actor))
