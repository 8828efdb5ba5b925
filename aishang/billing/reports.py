"""统计台账: ledgers and reports of receivables and collections, read from the sub-ledger's own rows.

Every selector starts from the actor's scope (bills and payments ``restrict``-ed to what the user may view)
and works on sets: filters, sums and groupings run in the database, and money is summed in whole fen on
SQLite (see ``core.money.money_total``), so totals are exact. Python only labels groups and decorates the
page of rows being shown. Two time axes (ADR 0014):

- the **cash view** (收付实现) dates a money movement by when it happened: a payment by ``received_at``, a
  void or refund of it by the reversal's ``created_at``, a waiver or bill void by its ``created_at``;
- the **accrual view** (权责发生) dates everything by the billing period (``period_start``) of the bill it
  concerns.

The grain follows the dimension: methods exist on tenders (``PaymentTender``), fee items and periods on
allocations (``Allocation``), so a summary by method reads tenders and one by fee item reads allocations.
"""

import datetime
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Round, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.money import FEN, format_money, money_total, money_totals
from aishang.estate.models import Building, Project, Unit
from aishang.extras.jobs import job_progress, job_runner

from .balances import MONEY_FIELD, TAKEN_OFF, bills_with_outstanding
from .models import (
    MONEY_IN_METHODS,
    Allocation,
    ApprovalDecision,
    ApprovalStep,
    Bill,
    BillDiscount,
    BillVoid,
    DepositMovement,
    DepositMovementKind,
    FeeItem,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentTender,
    PrepaidMovement,
    PrepaidMovementKind,
    PrintOutput,
    ReceiptPrint,
    Waiver,
)

OFFSET_METHODS = (PaymentMethod.PREPAID, PaymentMethod.DEPOSIT)
ZERO = Decimal("0.00")


class View:
    CASH = "cash"
    ACCRUAL = "accrual"
    CHOICES = [(CASH, gettext_lazy("收付实现（按收款日期）")), (ACCRUAL, gettext_lazy("权责发生（按账期）"))]


class Kind:
    """Which collections: money brought in (实收) or money already held used on bills (冲抵)."""

    RECEIVED = "received"
    OFFSET = "offset"
    CHOICES = [(RECEIVED, gettext_lazy("实收（现金、刷卡、微信、支付宝、转账）")),
               (OFFSET, gettext_lazy("冲抵（预存冲抵、押金冲抵）"))]


class Dimension:
    PROJECT = "project"
    BUILDING = "building"
    FEE_ITEM = "fee_item"
    PERIOD = "period"
    DAY = "day"
    MONTH = "month"
    CASHIER = "cashier"
    METHOD = "method"
    LABELS = {PROJECT: gettext_lazy("项目"), BUILDING: gettext_lazy("楼栋"), FEE_ITEM: gettext_lazy("收费项目"),
              PERIOD: gettext_lazy("账期"), DAY: gettext_lazy("日期"), MONTH: gettext_lazy("月份"),
              CASHIER: gettext_lazy("收款人"), METHOD: gettext_lazy("收款方式")}


@dataclass(frozen=True)
class ReportFilters:
    """What a report is limited to. Objects are already checked to be within the user's scope by the form."""

    project: Any = None
    building: Any = None
    fee_item: Any = None
    cashier: Any = None
    method: str = ""
    kind: str = ""
    unit: Any = None
    customer: Any = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    period_from: datetime.date | None = None  # first day of the first billing month
    period_to: datetime.date | None = None  # first day of the last billing month
    view: str = View.CASH
    as_of: datetime.date | None = None
    change_kind: str = ""
    order: str = ""  # 欠费账龄: ArrearsOrder


@dataclass
class Column:
    key: str
    label: Any
    kind: str = "text"  # text, money, date, datetime, int, percent


@dataclass
class ReportTable:
    """What a report shows: columns, rows (a queryset of dicts or a list), the totals row and a chart."""

    columns: list
    rows: Any
    totals: dict = field(default_factory=dict)
    chart: dict | None = None
    decorate: Any = None  # callable(list of row dicts) -> list of row dicts, for one page at a time
    extra: dict = field(default_factory=dict)

    def page_rows(self, rows):
        rows = [dict(row) for row in rows]
        return self.decorate(rows) if self.decorate else rows


# Dates and money


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_end(day):
    return _next_month(day) - datetime.timedelta(days=1)


def _is_sqlite(queryset):
    return connections[queryset.db].vendor == "sqlite"




def _yuan(value, sqlite):
    if value is None:
        return ZERO
    if sqlite:
        return (Decimal(int(value)) / 100).quantize(FEN)
    return Decimal(value).quantize(FEN)


def _between(path, start, end):
    """Lookups for ``start <= path < end`` where either bound may be missing."""
    lookups = {}
    if start is not None:
        lookups[f"{path}__gte"] = start
    if end is not None:
        lookups[f"{path}__lt"] = end
    return lookups


def _moment_range(filters):
    start = _day_start(filters.date_from) if filters.date_from else None
    end = _day_start(filters.date_to + datetime.timedelta(days=1)) if filters.date_to else None
    return start, end


def _period_range(filters):
    start = filters.period_from
    end = _next_month(filters.period_to) if filters.period_to else None
    return start, end


# Sources: each fact table with the paths of its dimensions


@dataclass(frozen=True)
class Source:
    paths: dict  # dimension or filter name -> lookup path (annotation names are set by the source's queryset)
    period: str | None = None  # the bill's period_start
    moment: str | None = None  # when the money moved


def _bill_paths(prefix=""):
    return {"project": f"{prefix}project_id", "building": f"{prefix}unit__building_id",
            "fee_item": f"{prefix}fee_item_id", "unit": f"{prefix}unit_id", "customer": f"{prefix}payer_id"}


BILLS = Source(_bill_paths(), period="period_start")
CORRECTIONS = Source({**_bill_paths("bill__"), "cashier": "request__requested_by_id"}, period="bill__period_start",
                     moment="created_at")
ALLOCATIONS = Source({**_bill_paths("bill__"), "cashier": "line_cashier"}, period="bill__period_start",
                     moment="line_at")
_PAYMENT_PATHS = {"project": "payment__project_id", "building": "payment__unit__building_id",
                  "unit": "payment__unit_id", "customer": "payment__payer_id", "method": "method"}
TENDERS = Source({**_PAYMENT_PATHS, "cashier": "payment__cashier_id"}, moment="payment__received_at")
REVERSALS = Source({**_PAYMENT_PATHS, "cashier": "created_by_id"}, moment="created_at")


def _apply_filters(queryset, source, filters, *, by_period=None, by_moment=None):
    """Filter a source's queryset; by default the range of the filters' view applies."""
    lookups = {}
    for name in ("project", "building", "fee_item", "unit", "customer", "cashier"):
        value = getattr(filters, name)
        path = source.paths.get(name)
        if value is not None and path:
            lookups[path] = getattr(value, "pk", value)
    if filters.method and source.paths.get("method"):
        lookups[source.paths["method"]] = filters.method
    if by_period is None:
        by_period = filters.view == View.ACCRUAL
    if by_moment is None:
        by_moment = filters.view == View.CASH
    if by_period and source.period:
        lookups.update(_between(source.period, *_period_range(filters)))
    if by_moment and source.moment:
        lookups.update(_between(source.moment, *_moment_range(filters)))
    return queryset.filter(**lookups)


def scoped_bills(user):
    return Bill.objects.restrict(user, "view")


def scoped_payments(user):
    return Payment.objects.restrict(user, "view")


def _filtered_bills(user, filters, **ranges):
    return _apply_filters(scoped_bills(user), BILLS, filters, **ranges)


def _all_offset_payment():
    """An allocation's payment brought no money in: every tender was 预存冲抵 or 押金冲抵."""
    return ~Exists(PaymentTender.objects.filter(payment_id=OuterRef("payment_id"), method__in=MONEY_IN_METHODS))


def _allocations(user, filters, **ranges):
    """Allocation lines: positive settlements and the negative lines of voids and refunds, each dated and
    attributed to whoever moved the money (the cashier, or for a reversal whoever recorded it)."""
    lines = (Allocation.objects.filter(payment__in=scoped_payments(user), bill__in=scoped_bills(user))
             .annotate(line_at=Coalesce("reversal__created_at", "payment__received_at", output_field=DateTimeField()),
                       line_cashier=Coalesce("reversal__created_by_id", "payment__cashier_id"),
                       line_offset=_all_offset_payment()))
    lines = _apply_filters(lines, ALLOCATIONS, filters, **ranges)
    if filters.kind == Kind.OFFSET:
        lines = lines.filter(line_offset=True)
    elif filters.kind == Kind.RECEIVED:
        lines = lines.filter(line_offset=False)
    return lines


def _kind_methods(kind):
    return {Kind.RECEIVED: list(MONEY_IN_METHODS), Kind.OFFSET: list(OFFSET_METHODS)}.get(kind)


def _payment_lines(model, source, user, filters):
    lines = _apply_filters(model.objects.filter(payment__in=scoped_payments(user)), source, filters,
                           by_period=False, by_moment=True)
    if filters.fee_item is not None:
        lines = lines.filter(Exists(Allocation.objects.filter(payment_id=OuterRef("payment_id"),
                                                              bill__fee_item=filters.fee_item)))
    methods = _kind_methods(filters.kind)
    if methods:
        lines = lines.filter(method__in=methods)
    return lines


def _tenders(user, filters):
    return _payment_lines(PaymentTender, TENDERS, user, filters)


def _reversals(user, filters):
    return _payment_lines(PaymentReversal, REVERSALS, user, filters)


def _corrections(model, user, filters):
    return _apply_filters(model.objects.filter(bill__in=scoped_bills(user)), CORRECTIONS, filters)


# Grouping


def _group_expression(dimension, source):
    if dimension == Dimension.PERIOD:
        return TruncMonth(source.period) if source.period else None
    if dimension == Dimension.DAY:
        return TruncDate(source.moment) if source.moment else None
    if dimension == Dimension.MONTH:
        return TruncMonth(source.moment) if source.moment else None
    path = source.paths.get(dimension)
    return F(path) if path else None


def _grouped(queryset, source, dimension, field="amount"):
    """{group key: exact sum} of a source's money column by one dimension (None for all rows: key None)."""
    if dimension is None:
        return {None: money_total(queryset, field)}
    return {key: total for (key,), total in
            money_totals(queryset.annotate(group_key=_group_expression(dimension, source)), ["group_key"],
                         field).items()}


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def group_labels(dimension, keys):
    """{key: (label, sort key)} for the keys of a grouping, looked up in one query per dimension; groups sort as
    their records do (fee items by code, methods in the desk's order, dates in time), the missing key last."""
    keys = [key for key in keys if key is not None]
    none_label = {Dimension.BUILDING: _("（无楼栋）"), Dimension.CASHIER: _("（无）")}.get(dimension, "--")
    labels = {None: (none_label, (1,))}
    if dimension == Dimension.PROJECT:
        labels.update({p.pk: (p.name, (0, p.name)) for p in Project.objects.filter(pk__in=keys)})
    elif dimension == Dimension.BUILDING:
        labels.update({b.pk: (f"{b.project.name} {b}", (0, b.project.name, b.weight, b.code)) for b in
                       Building.objects.filter(pk__in=keys).select_related("project")})
    elif dimension == Dimension.FEE_ITEM:
        labels.update({item.pk: (item.name, (0, item.code)) for item in FeeItem.objects.filter(pk__in=keys)})
    elif dimension == Dimension.CASHIER:
        from aishang.users.models import User

        labels.update({user.pk: (str(user), (0, user.username)) for user in User.objects.filter(pk__in=keys)})
    elif dimension == Dimension.METHOD:
        order = list(PaymentMethod.values)
        labels.update({key: (str(PaymentMethod(key).label), (0, order.index(key))) for key in keys if key in order})
    elif dimension in (Dimension.PERIOD, Dimension.MONTH):
        labels.update({key: (f"{_as_date(key):%Y-%m}", (0, _as_date(key))) for key in keys})
    elif dimension == Dimension.DAY:
        labels.update({key: (f"{_as_date(key):%Y-%m-%d}", (0, _as_date(key))) for key in keys})
    return labels


def _summary_rows(dimension, measures, order=None):
    """Rows of a grouped report from {measure: {key: total}}: one row per key, every measure (0 when missing)."""
    keys = set()
    for totals in measures.values():
        keys.update(totals)
    labels = group_labels(dimension, keys)
    rows = []
    for key in sorted(keys, key=lambda key: labels.get(key, (str(key), (2, str(key))))[1]):
        row = {"group_key": key, "group": labels.get(key, (str(key),))[0]}
        row.update({name: totals.get(key, ZERO) for name, totals in measures.items()})
        rows.append(row)
    return rows


def _column_totals(rows, names):
    return {name: sum((row[name] for row in rows), ZERO) for name in names}


def _bar_chart(rows, series):
    """ECharts options for a bar chart: one category per row, one series per (key, label)."""
    return {"categories": [str(row["group"]) for row in rows],
            "series": [{"name": str(label), "data": [str(row[key]) for row in rows]} for key, label in series]}


def _rate(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


# 应收台账: bills with what became of them


BILL_COMPONENTS = (("discounted", BillDiscount), ("waived", Waiver), ("voided", BillVoid), ("paid", Allocation))


def _bill_component_totals(bills, dimension):
    """{measure: {key: total}}: the bills' amounts and the discounts, waivers, voids and net allocations on them,
    each summed in one grouped query of its own table (no per-bill subqueries)."""
    prefixed = Source(_bill_paths("bill__"), period="bill__period_start")
    totals = {"amount": _grouped(bills, BILLS, dimension)}
    for name, model in BILL_COMPONENTS:
        totals[name] = _grouped(model.objects.filter(bill__in=bills), prefixed, dimension)
    keys = set().union(*totals.values())
    totals["outstanding"] = {key: totals["amount"].get(key, ZERO) - sum(
        (totals[name].get(key, ZERO) for name, _model in BILL_COMPONENTS), ZERO) for key in keys}
    return totals


BILL_MONEY_COLUMNS = [("amount", gettext_lazy("应收金额")), ("discounted", gettext_lazy("优惠")),
                      ("waived", gettext_lazy("减免")), ("voided", gettext_lazy("作废")),
                      ("paid", gettext_lazy("已收")), ("outstanding", gettext_lazy("欠费"))]


def _subject_label(row):
    return row.get("unit__code") or row.get("parking_space__number") or row.get("payer__name") or "--"


def receivable_detail(user, filters):
    bills = _filtered_bills(user, filters, by_period=True, by_moment=False)
    rows = (bills_with_outstanding(bills).order_by("period_start", "unit__code", "pk")
            .values("pk", "project__name", "unit__code", "parking_space__number", "payer__name", "fee_item__name",
                    "period_start", "period_end", "due_date", "kind", "amount", "discounted", "waived", "voided",
                    "paid", "outstanding"))
    totals = {name: by_key[None] for name, by_key in _bill_component_totals(bills, None).items()}

    def decorate(page):
        from .models import BillKind

        for row in page:
            row["subject"] = _subject_label(row)
            row["period"] = f"{row['period_start']:%Y-%m-%d} ～ {row['period_end']:%Y-%m-%d}"
            row["kind"] = str(BillKind(row["kind"]).label) if row["kind"] in BillKind.values else row["kind"]
            for name, _label in BILL_MONEY_COLUMNS:
                row[name] = Decimal(row[name]).quantize(FEN)
        return page

    columns = [Column("project__name", _("项目")), Column("subject", _("房屋/车位")),
               Column("payer__name", _("缴费人")), Column("fee_item__name", _("收费项目")),
               Column("period", _("账期")), Column("due_date", _("应缴日期"), "date"), Column("kind", _("账单类型")),
               *[Column(name, label, "money") for name, label in BILL_MONEY_COLUMNS]]
    return ReportTable(columns, rows, totals, decorate=decorate)


def receivable_summary(user, filters, dimension=Dimension.FEE_ITEM):
    bills = _filtered_bills(user, filters, by_period=True, by_moment=False)
    rows = _summary_rows(dimension, _bill_component_totals(bills, dimension))
    names = [name for name, _label in BILL_MONEY_COLUMNS]
    columns = [Column("group", Dimension.LABELS[dimension]), *[Column(n, label, "money") for n, label in
                                                               BILL_MONEY_COLUMNS]]
    return ReportTable(columns, rows, _column_totals(rows, names),
                       chart=_bar_chart(rows, [("amount", _("应收金额")), ("paid", _("已收")),
                                               ("outstanding", _("欠费"))]))


# 收款明细 and 收款汇总


def _name(path):
    """A person's name for display: the display name, or the username when there is none."""
    return Coalesce(NullIf(F(f"{path}__display_name"), Value("")), F(f"{path}__username"), output_field=CharField())


COLLECTION_LINE_FIELDS = ("line_at", "line_type", "receipt_number", "payment_id", "line_method", "line_amount",
                          "project_name", "unit_code", "payer_name", "cashier_name", "source")


def _tender_lines(user, filters):
    return (_tenders(user, filters)
            .annotate(line_at=F("payment__received_at"), line_type=Value("payment", output_field=CharField()),
                      receipt_number=F("payment__receipt_number"), line_method=F("method"),
                      line_amount=F("amount"), project_name=F("payment__project__name"),
                      unit_code=F("payment__unit__code"), payer_name=F("payment__payer__name"),
                      cashier_name=_name("payment__cashier"), source=F("payment__source"))
            .order_by().values(*COLLECTION_LINE_FIELDS))


def _reversal_lines(user, filters):
    return (_reversals(user, filters)
            .annotate(line_at=F("created_at"), line_type=F("kind"), receipt_number=F("payment__receipt_number"),
                      line_method=F("method"),
                      line_amount=Value(Decimal("0"), output_field=MONEY_FIELD) - F("amount"),
                      project_name=F("payment__project__name"), unit_code=F("payment__unit__code"),
                      payer_name=F("payment__payer__name"), cashier_name=_name("created_by"),
                      source=F("payment__source"))
            .order_by().values(*COLLECTION_LINE_FIELDS))


def _decorate_collection_lines(page):
    from .models import PaymentSource, ReversalKind

    type_labels = {"payment": _("收款"), **{k: str(v) for k, v in ReversalKind.choices}}
    for row in page:
        row["line_type"] = type_labels.get(row["line_type"], row["line_type"])
        row["line_method"] = str(PaymentMethod(row["line_method"]).label) if row["line_method"] in \
            PaymentMethod.values else row["line_method"]
        row["source"] = str(PaymentSource(row["source"]).label) if row["source"] in PaymentSource.values else ""
        row["line_amount"] = Decimal(row["line_amount"]).quantize(FEN)
        if "line_period_start" in row:
            row["period"] = f"{row['line_period_start']:%Y-%m}"
    return page


def _split_totals(tenders, reversals):
    gross, taken_back = money_total(tenders), money_total(reversals)
    offset = money_total(tenders.filter(method__in=OFFSET_METHODS)) - money_total(
        reversals.filter(method__in=OFFSET_METHODS))
    net = gross - taken_back
    return {"gross": gross, "reversed": -taken_back, "net": net, "offset": offset, "received": net - offset}


def collections_detail(user, filters):
    """收款明细. Cash view: each tender of each payment and each void or refund (negative), by date. Accrual view:
    each allocation of a payment to a bill of the periods (negative for what a void or refund took back)."""
    if filters.view == View.ACCRUAL:
        return _settlement_detail(user, filters)
    tenders, reversals = _tenders(user, filters), _reversals(user, filters)
    rows = _tender_lines(user, filters).union(_reversal_lines(user, filters), all=True).order_by("-line_at",
                                                                                                 "-payment_id")
    totals = _split_totals(tenders, reversals)
    columns = [Column("line_at", _("时间"), "datetime"), Column("receipt_number", _("收据号")),
               Column("line_type", _("类型")), Column("project_name", _("项目")), Column("unit_code", _("房屋")),
               Column("payer_name", _("缴费人")), Column("line_method", _("收款方式")),
               Column("cashier_name", _("收款人/经办人")), Column("source", _("来源")),
               Column("line_amount", _("金额"), "money")]
    return ReportTable(columns, rows, {"line_amount": totals["net"]}, decorate=_decorate_collection_lines,
                       extra={"split": totals})


def _settlement_detail(user, filters):
    lines = _allocations(user, filters)
    rows = (lines.annotate(line_type=Case(When(reversal__isnull=True, then=Value("payment")),
                                          default=F("reversal__kind"), output_field=CharField()),
                           receipt_number=F("payment__receipt_number"), line_amount=F("amount"),
                           project_name=F("project__name"), unit_code=F("bill__unit__code"),
                           payer_name=F("bill__payer__name"), fee_item_name=F("bill__fee_item__name"),
                           line_period_start=F("bill__period_start"), cashier_name=_name("payment__cashier"),
                           line_method=Value("", output_field=CharField()), source=F("payment__source"))
            .order_by("bill__period_start", "-line_at", "-pk")
            .values("line_at", "line_type", "receipt_number", "payment_id", "line_amount", "project_name",
                    "unit_code", "payer_name", "fee_item_name", "line_period_start", "cashier_name", "line_method",
                    "source", "line_offset"))
    gross = money_total(lines.filter(reversal__isnull=True))
    net = money_total(lines)
    offset = money_total(lines.filter(line_offset=True))

    def decorate(page):
        page = _decorate_collection_lines(page)
        for row in page:
            row["line_method"] = _("冲抵") if row["line_offset"] else _("实收")
        return page

    columns = [Column("period", _("账期")), Column("fee_item_name", _("收费项目")),
               Column("line_at", _("时间"), "datetime"), Column("receipt_number", _("收据号")),
               Column("line_type", _("类型")), Column("project_name", _("项目")), Column("unit_code", _("房屋")),
               Column("payer_name", _("缴费人")), Column("line_method", _("实收/冲抵")),
               Column("cashier_name", _("收款人")), Column("line_amount", _("金额"), "money")]
    split = {"gross": gross, "reversed": net - gross, "net": net, "offset": offset, "received": net - offset}
    return ReportTable(columns, rows, {"line_amount": net}, decorate=decorate, extra={"split": split})


SUMMARY_COLUMNS = [("gross", gettext_lazy("收款")), ("reversed", gettext_lazy("作废/退款")),
                   ("net", gettext_lazy("净收款")), ("received", gettext_lazy("其中实收")),
                   ("offset", gettext_lazy("其中冲抵"))]
CASH_DIMENSIONS = (Dimension.METHOD, Dimension.CASHIER, Dimension.PROJECT, Dimension.BUILDING, Dimension.DAY,
                   Dimension.MONTH, Dimension.FEE_ITEM, Dimension.PERIOD)
ACCRUAL_DIMENSIONS = (Dimension.FEE_ITEM, Dimension.PERIOD, Dimension.PROJECT, Dimension.BUILDING,
                      Dimension.CASHIER)
UNSETTLED = "unsettled"


def _allocation_measures(lines, dimension):
    gross = _grouped(lines.filter(reversal__isnull=True), ALLOCATIONS, dimension)
    net = _grouped(lines, ALLOCATIONS, dimension)
    offset = _grouped(lines.filter(line_offset=True), ALLOCATIONS, dimension)
    keys = set(gross) | set(net)
    return {"gross": gross, "reversed": {k: net.get(k, ZERO) - gross.get(k, ZERO) for k in keys}, "net": net,
            "received": {k: net.get(k, ZERO) - offset.get(k, ZERO) for k in keys}, "offset": offset}


def collections_summary(user, filters, dimension=Dimension.METHOD):
    """收款汇总 by one dimension. In the cash view methods, cashiers, projects, buildings and dates read the
    tenders and reversals; fee items and periods read allocations, with one more row for what went to prepaid
    or deposits (not to bills), so every grouping of the same filter has the same totals."""
    names = [name for name, _label in SUMMARY_COLUMNS]
    if filters.view == View.ACCRUAL and dimension not in ACCRUAL_DIMENSIONS:
        dimension = Dimension.FEE_ITEM
    if filters.view == View.CASH and dimension in (Dimension.FEE_ITEM, Dimension.PERIOD):
        lines = _allocations(user, filters)
        rows = _summary_rows(dimension, _allocation_measures(lines, dimension))
        whole = _split_totals(_tenders(user, filters), _reversals(user, filters))
        settled = _column_totals(rows, names)
        rest = {name: whole[name] - settled[name] for name in names}
        if any(rest.values()):
            rows.append({"group_key": UNSETTLED, "group": _("未核销到账单（预存、押金等）"), **rest})
        totals = whole
    elif filters.view == View.CASH:
        tenders, reversals = _tenders(user, filters), _reversals(user, filters)
        gross = _grouped(tenders, TENDERS, dimension)
        taken_back = _grouped(reversals, REVERSALS, dimension)
        offset_in = _grouped(tenders.filter(method__in=OFFSET_METHODS), TENDERS, dimension)
        offset_back = _grouped(reversals.filter(method__in=OFFSET_METHODS), REVERSALS, dimension)
        keys = set(gross) | set(taken_back)
        net = {k: gross.get(k, ZERO) - taken_back.get(k, ZERO) for k in keys}
        offset = {k: offset_in.get(k, ZERO) - offset_back.get(k, ZERO) for k in keys}
        rows = _summary_rows(dimension, {
            "gross": gross, "reversed": {k: -taken_back.get(k, ZERO) for k in keys}, "net": net,
            "received": {k: net[k] - offset[k] for k in keys}, "offset": offset})
        totals = _column_totals(rows, names)
    else:
        rows = _summary_rows(dimension, _allocation_measures(_allocations(user, filters), dimension))
        totals = _column_totals(rows, names)
    columns = [Column("group", Dimension.LABELS[dimension]), *[Column(n, label, "money") for n, label in
                                                               SUMMARY_COLUMNS]]
    return ReportTable(columns, rows, totals, chart=_bar_chart(rows, [("received", _("实收")), ("offset", _("冲抵"))]),
                       extra={"dimension": dimension})


# 减免 and 作废 (bill corrections)


def _requester_and_approver(queryset):
    last_approval = (ApprovalStep.objects.filter(request_id=OuterRef("request_id"), decision=ApprovalDecision.APPROVE)
                     .order_by("-decided_at", "-id"))
    return queryset.annotate(
        requester_name=_name("request__requested_by"),
        approver_name=Subquery(last_approval.annotate(n=_name("decided_by")).values("n")[:1]),
        reason=F("request__reason"))


def corrections_detail(model, user, filters):
    corrections = _corrections(model, user, filters)
    rows = (_requester_and_approver(corrections).order_by("-created_at", "-pk")
            .values("pk", "created_at", "project__name", "bill__unit__code", "bill__parking_space__number",
                    "bill__payer__name", "bill__fee_item__name", "bill__period_start", "amount", "requester_name",
                    "approver_name", "reason"))

    def decorate(page):
        for row in page:
            row["subject"] = row["bill__unit__code"] or row["bill__parking_space__number"] or "--"
            row["period"] = f"{row['bill__period_start']:%Y-%m}"
        return page

    columns = [Column("created_at", _("时间"), "datetime"), Column("project__name", _("项目")),
               Column("subject", _("房屋/车位")), Column("bill__payer__name", _("缴费人")),
               Column("bill__fee_item__name", _("收费项目")), Column("period", _("账期")),
               Column("amount", _("金额"), "money"), Column("requester_name", _("申请人")),
               Column("approver_name", _("审批人")), Column("reason", _("原因"))]
    return ReportTable(columns, rows, {"amount": money_total(corrections)}, decorate=decorate)


def corrections_summary(model, user, filters, dimension=Dimension.FEE_ITEM):
    corrections = _corrections(model, user, filters)
    counts = {row["group_key"]: row["n"] for row in corrections.annotate(
        group_key=_group_expression(dimension, CORRECTIONS)).order_by().values("group_key").annotate(n=Count("pk"))}
    rows = _summary_rows(dimension, {"amount": _grouped(corrections, CORRECTIONS, dimension)})
    for row in rows:
        row["count"] = counts.get(row["group_key"], 0)
    columns = [Column("group", Dimension.LABELS[dimension]), Column("count", _("笔数"), "int"),
               Column("amount", _("金额"), "money")]
    totals = {"count": sum(counts.values()), "amount": _column_totals(rows, ["amount"])["amount"]}
    return ReportTable(columns, rows, totals,
                       chart=_bar_chart(rows, [("amount", _("金额"))]))


# 收费情况统计: collection rate of the period's bills, and of arrears brought into it


def collection_rate(user, filters, dimension=Dimension.FEE_ITEM):
    """For the billing months chosen (default: this month), up to the end of the last month (or today):

    - 本期: the period's bills, receivable net of discounts, what was waived, voided and collected on them by then,
      and 收缴率 = collected / (receivable − discounts − waivers − voids);
    - 往期: bills of earlier periods, what they still owed when the first month began (期初欠费), what was
      collected on them since (清欠), and 清欠率 = 清欠 / 期初欠费.
    """
    today = timezone.localdate()
    start = filters.period_from or today.replace(day=1)
    last = filters.period_to or start
    as_of = min(today, month_end(last))
    begin, until = _day_start(start), _day_start(as_of + datetime.timedelta(days=1))
    prefixed = Source(_bill_paths("bill__"), period="bill__period_start")
    base = _apply_filters(scoped_bills(user), BILLS, filters, by_period=False, by_moment=False)
    current = base.filter(period_start__gte=start, period_start__lt=_next_month(last))
    earlier = base.filter(period_start__lt=start)

    def corrections(bills, model, before):
        return model.objects.filter(bill__in=bills, created_at__lt=before)

    def settled(bills, since=None):
        lines = Allocation.objects.filter(bill__in=bills).annotate(
            line_at=Coalesce("reversal__created_at", "payment__received_at", output_field=DateTimeField()))
        lines = lines.filter(line_at__lt=until)
        return lines.filter(line_at__gte=since) if since else lines

    measures = {
        "receivable": _grouped(current, BILLS, dimension),
        "discounted": _grouped(corrections(current, BillDiscount, until), prefixed, dimension),
        "waived": _grouped(corrections(current, Waiver, until), prefixed, dimension),
        "voided": _grouped(corrections(current, BillVoid, until), prefixed, dimension),
        "collected": _grouped(settled(current), prefixed, dimension),
        "earlier_amount": _grouped(earlier, BILLS, dimension),
        "earlier_taken": {},
        "arrears_collected": _grouped(settled(earlier, begin), prefixed, dimension),
    }
    for model in (BillDiscount, Waiver, BillVoid):
        for key, total in _grouped(corrections(earlier, model, begin), prefixed, dimension).items():
            measures["earlier_taken"][key] = measures["earlier_taken"].get(key, ZERO) + total
    for key, total in _grouped(settled(earlier).filter(line_at__lt=begin), prefixed, dimension).items():
        measures["earlier_taken"][key] = measures["earlier_taken"].get(key, ZERO) + total
    keys = set().union(*measures.values())
    measures["receivable"] = {k: measures["receivable"].get(k, ZERO) - measures["discounted"].get(k, ZERO)
                              for k in keys}
    measures["due"] = {k: measures["receivable"][k] - measures["waived"].get(k, ZERO)
                       - measures["voided"].get(k, ZERO) for k in keys}
    measures["outstanding"] = {k: measures["due"][k] - measures["collected"].get(k, ZERO) for k in keys}
    measures["opening_arrears"] = {k: measures["earlier_amount"].get(k, ZERO) - measures["earlier_taken"].get(k, ZERO)
                                   for k in keys}
    del measures["discounted"], measures["earlier_amount"], measures["earlier_taken"]
    rows = [row for row in _summary_rows(dimension, measures)
            if any(row[name] for name in ("receivable", "collected", "opening_arrears", "arrears_collected"))]
    names = ["receivable", "waived", "voided", "due", "collected", "outstanding", "opening_arrears",
             "arrears_collected"]
    totals = _column_totals(rows, names)
    for row in [*rows, totals]:
        row["rate"] = _rate(row["collected"], row["due"])
        row["arrears_rate"] = _rate(row["arrears_collected"], row["opening_arrears"])
    columns = [Column("group", Dimension.LABELS[dimension]), Column("receivable", _("本期应收"), "money"),
               Column("waived", _("减免"), "money"), Column("voided", _("作废"), "money"),
               Column("due", _("应收净额"), "money"), Column("collected", _("本期实收"), "money"),
               Column("outstanding", _("本期欠费"), "money"), Column("rate", _("收缴率"), "percent"),
               Column("opening_arrears", _("期初往期欠费"), "money"),
               Column("arrears_collected", _("清欠金额"), "money"), Column("arrears_rate", _("清欠率"), "percent")]
    chart = {"categories": [str(row["group"]) for row in rows],
             "series": [{"name": _("收缴率"), "data": [str(row["rate"] or 0) for row in rows]},
                        {"name": _("清欠率"), "data": [str(row["arrears_rate"] or 0) for row in rows]}],
             "percent": True}
    return ReportTable(columns, rows, totals, chart=chart,
                       extra={"period_from": start, "period_to": last, "as_of": as_of})


# 变更记录: every waiver, void, refund and reprint, with who, when and why


class ChangeKind:
    WAIVER = "waiver"
    BILL_VOID = "bill_void"
    PAYMENT_VOID = "void"
    PAYMENT_REFUND = "refund"
    PREPAID_REFUND = "prepaid_refund"
    DEPOSIT_REFUND = "deposit_refund"
    REPRINT = "reprint"
    CHOICES = [(WAIVER, gettext_lazy("账单减免")), (BILL_VOID, gettext_lazy("账单作废")),
               (PAYMENT_VOID, gettext_lazy("收款作废")), (PAYMENT_REFUND, gettext_lazy("收款退款")),
               (PREPAID_REFUND, gettext_lazy("预存退款")), (DEPOSIT_REFUND, gettext_lazy("押金退还")),
               (REPRINT, gettext_lazy("收据补打"))]


CHANGE_FIELDS = ("change_at", "change_kind", "change_project", "change_unit", "change_subject", "change_amount",
                 "change_by", "change_approver", "change_reason")


def _text(value):
    return Value(value, output_field=CharField())


def _change_parts(user, filters):
    """One values() queryset per kind of change, all with CHANGE_FIELDS, to be united and paged together."""
    bills, payments = scoped_bills(user), scoped_payments(user)
    start, end = _moment_range(filters)
    last_approval = (ApprovalStep.objects.filter(request_id=OuterRef("request_id"), decision=ApprovalDecision.APPROVE)
                     .order_by("-decided_at", "-id").annotate(n=_name("decided_by")).values("n")[:1])
    approver = Subquery(last_approval, output_field=CharField())

    def common(queryset, *, at, kind, project, unit, subject, amount, by, approver, reason, building, customer,
               who):
        lookups = _between(at, start, end)
        for value, path in ((filters.project, project), (filters.building, building), (filters.unit, unit),
                            (filters.customer, customer), (filters.cashier, who)):
            if value is not None:
                # A filter this kind of change cannot meet (a prepaid refund has no customer) leaves none of it.
                lookups[path or "pk__in"] = value.pk if path else []
        return (queryset.filter(**lookups)
                .annotate(change_at=F(at), change_kind=kind, change_project=F(f"{project[:-3]}__name"),
                          change_unit=F(f"{unit[:-3]}__code"), change_subject=subject, change_amount=amount,
                          change_by=by, change_approver=approver, change_reason=reason)
                .order_by().values(*CHANGE_FIELDS))

    bill_subject = Coalesce(F("bill__fee_item__name"), _text(""), output_field=CharField())
    parts = {
        ChangeKind.WAIVER: common(
            Waiver.objects.filter(bill__in=bills), at="created_at", kind=_text(ChangeKind.WAIVER),
            project="project_id", unit="bill__unit_id", subject=bill_subject, amount=F("amount"),
            by=_name("request__requested_by"), approver=approver, reason=F("request__reason"),
            building="bill__unit__building_id", customer="bill__payer_id", who="request__requested_by_id"),
        ChangeKind.BILL_VOID: common(
            BillVoid.objects.filter(bill__in=bills), at="created_at", kind=_text(ChangeKind.BILL_VOID),
            project="project_id", unit="bill__unit_id", subject=bill_subject, amount=F("amount"),
            by=_name("request__requested_by"), approver=approver, reason=F("request__reason"),
            building="bill__unit__building_id", customer="bill__payer_id", who="request__requested_by_id"),
    }
    reversals = PaymentReversal.objects.filter(payment__in=payments)
    for kind in (ChangeKind.PAYMENT_VOID, ChangeKind.PAYMENT_REFUND):
        parts[kind] = common(
            reversals.filter(kind=kind), at="created_at", kind=F("kind"), project="project_id",
            unit="payment__unit_id", subject=F("payment__receipt_number"), amount=F("amount"),
            by=_name("request__requested_by"), approver=approver, reason=F("request__reason"),
            building="payment__unit__building_id", customer="payment__payer_id", who="request__requested_by_id")
    parts[ChangeKind.PREPAID_REFUND] = common(
        PrepaidMovement.objects.within_scope(user).filter(kind=PrepaidMovementKind.REFUND),
        at="created_at", kind=_text(ChangeKind.PREPAID_REFUND), project="project_id", unit="account__unit_id",
        subject=Coalesce(F("account__fee_item__name"), _text(str(_("通用预存"))), output_field=CharField()),
        amount=Value(Decimal("0"), output_field=MONEY_FIELD) - F("amount"),
        by=Coalesce(_name("request__requested_by"), _name("created_by"), output_field=CharField()),
        approver=approver, reason=Coalesce(F("request__reason"), _text(""), output_field=CharField()),
        building="account__unit__building_id", customer=None, who="created_by_id")
    parts[ChangeKind.DEPOSIT_REFUND] = common(
        DepositMovement.objects.filter(deposit__payment__in=payments, kind=DepositMovementKind.REFUND),
        at="created_at", kind=_text(ChangeKind.DEPOSIT_REFUND), project="project_id", unit="deposit__unit_id",
        subject=F("deposit__kind"), amount=Value(Decimal("0"), output_field=MONEY_FIELD) - F("amount"),
        by=Coalesce(_name("request__requested_by"), _name("created_by"), output_field=CharField()),
        approver=approver, reason=Coalesce(F("request__reason"), _text(""), output_field=CharField()),
        building="deposit__unit__building_id", customer="deposit__customer_id", who="created_by_id")
    parts[ChangeKind.REPRINT] = common(
        ReceiptPrint.objects.filter(payment__in=payments, copy_number__gt=1), at="printed_at",
        kind=_text(ChangeKind.REPRINT), project="payment__project_id", unit="payment__unit_id",
        subject=F("payment__receipt_number"), amount=F("payment__amount"), by=_name("printed_by"),
        approver=_text(""), reason=Concat(
            _text(str(_("补打，第 "))), Cast("copy_number", CharField()), _text(str(_(" 次打印"))),
            Case(*(When(output=output, then=_text(f"（{output.label}）")) for output in PrintOutput),
                 default=_text("")), output_field=CharField()),
        building="payment__unit__building_id",
        customer="payment__payer_id", who="printed_by_id")
    if filters.change_kind:
        parts = {kind: part for kind, part in parts.items() if kind == filters.change_kind}
    return parts


def changes_report(user, filters):
    parts = list(_change_parts(user, filters).items())
    if not parts:
        return ReportTable([], [], {})
    combined = parts[0][1]
    if len(parts) > 1:
        combined = combined.union(*[part for _kind, part in parts[1:]], all=True)
    rows = combined.order_by("-change_at")
    by_kind = {kind: {"count": part.count(), "amount": money_total(part, "change_amount")} for kind, part in parts}
    labels = dict(ChangeKind.CHOICES)

    def decorate(page):
        for row in page:
            row["change_kind"] = str(labels.get(row["change_kind"], row["change_kind"]))
            row["change_amount"] = Decimal(row["change_amount"]).quantize(FEN)
        return page

    columns = [Column("change_at", _("时间"), "datetime"), Column("change_kind", _("类型")),
               Column("change_project", _("项目")), Column("change_unit", _("房屋")),
               Column("change_subject", _("收据号/收费项目")), Column("change_amount", _("金额"), "money"),
               Column("change_by", _("经办/申请人")), Column("change_approver", _("审批人")),
               Column("change_reason", _("原因"))]
    totals = {"change_amount": None}  # kinds of different nature: amounts are totalled per kind, not together
    summary = [{"kind": str(labels[kind]), **figures} for kind, figures in by_kind.items()]
    return ReportTable(columns, rows, totals, decorate=decorate, extra={"by_kind": summary},
                       chart={"categories": [row["kind"] for row in summary],
                              "series": [{"name": _("笔数"), "data": [row["count"] for row in summary]}]})


# 对账单: a unit's or customer's receivable account over a period


def _subject_bills(user, unit=None, customer=None):
    bills = scoped_bills(user)
    return bills.filter(unit=unit) if unit is not None else bills.filter(payer=customer)


def statement(user, *, unit=None, customer=None, date_from, date_to):
    """The account of what a unit (or a customer) owes: the balance before ``date_from``, each bill, discount,
    payment, waiver, void and reversal of a payment up to ``date_to``, and the balance after.

    Bills and their discounts are dated by their billing period, everything else by when it happened; the closing
    balance over all time is the sum of the bills' outstanding amounts.
    """
    bills = _subject_bills(user, unit, customer)
    begin, end = _day_start(date_from), _day_start(date_to + datetime.timedelta(days=1))
    allocations = Allocation.objects.filter(bill__in=bills).annotate(
        line_at=Coalesce("reversal__created_at", "payment__received_at", output_field=DateTimeField()))
    # (signed effect on what is owed, dated rows)
    sources = [
        (1, bills, "period_start", False),
        (-1, BillDiscount.objects.filter(bill__in=bills), "bill__period_start", False),
        (-1, Waiver.objects.filter(bill__in=bills), "created_at", True),
        (-1, BillVoid.objects.filter(bill__in=bills), "created_at", True),
        (-1, allocations, "line_at", True),
    ]
    opening = ZERO
    for sign, rows, date_path, is_moment in sources:
        opening += sign * money_total(rows.filter(**{f"{date_path}__lt": begin if is_moment else date_from}))

    def in_range(rows, date_path, is_moment):
        if is_moment:
            return rows.filter(**{f"{date_path}__gte": begin, f"{date_path}__lt": end})
        return rows.filter(**{f"{date_path}__gte": date_from, f"{date_path}__lte": date_to})

    lines = []
    for bill in in_range(bills, "period_start", False).select_related("fee_item").order_by("period_start", "pk"):
        lines.append({"date": bill.period_start, "kind": _("应收"), "text": f"{bill.fee_item.name} "
                      f"{bill.period_start:%Y-%m-%d} ～ {bill.period_end:%Y-%m-%d}", "debit": bill.amount,
                      "credit": None, "order": 0})
    for discount in in_range(sources[1][1], "bill__period_start", False).select_related("bill__fee_item", "scheme"):
        lines.append({"date": discount.bill.period_start, "kind": _("优惠"),
                      "text": f"{discount.bill.fee_item.name} {discount.scheme.name}", "debit": None,
                      "credit": discount.amount, "order": 1})
    for label, model in ((_("减免"), Waiver), (_("作废"), BillVoid)):
        for row in in_range(model.objects.filter(bill__in=bills), "created_at", True).select_related(
                "bill__fee_item", "request"):
            lines.append({"date": _as_date(row.created_at), "kind": label,
                          "text": f"{row.bill.fee_item.name} {row.bill.period_start:%Y-%m} {row.request.reason}",
                          "debit": None, "credit": row.amount, "order": 2})
    # Payments and their reversals: one line each, the sum of what it settled (or took back) on these bills.
    moved = money_totals(in_range(allocations, "line_at", True), ["payment_id", "reversal_id"])
    payments = Payment.objects.in_bulk({payment_id for payment_id, _reversal in moved})
    reversals = PaymentReversal.objects.select_related("request").in_bulk(
        {reversal_id for _payment, reversal_id in moved if reversal_id})
    for (payment_id, reversal_id), amount in moved.items():
        payment = payments[payment_id]
        if reversal_id:
            reversal = reversals[reversal_id]
            lines.append({"date": _as_date(reversal.created_at), "kind": reversal.get_kind_display(),
                          "text": f"{payment.receipt_number} {reversal.request.reason}", "debit": -amount,
                          "credit": None, "order": 3})
        else:
            lines.append({"date": _as_date(payment.received_at), "kind": _("收款"), "text": payment.receipt_number,
                          "debit": None, "credit": amount, "order": 3})
    lines.sort(key=lambda line: (line["date"], line["order"]))
    balance = opening
    for line in lines:
        balance += (line["debit"] or ZERO) - (line["credit"] or ZERO)
        line["balance"] = balance
    return {"opening": opening, "lines": lines, "closing": balance,
            "debits": sum((line["debit"] or ZERO for line in lines), ZERO),
            "credits": sum((line["credit"] or ZERO for line in lines), ZERO),
            "unit": unit, "customer": customer, "date_from": date_from, "date_to": date_to}


# 欠费: arrears by age at a date, and reminders to pay them


AGING_BUCKETS = (("age_0_30", gettext_lazy("0–30 天"), 0, 30), ("age_31_90", gettext_lazy("31–90 天"), 31, 90),
                 ("age_91_365", gettext_lazy("91–365 天"), 91, 365), ("age_over_365", gettext_lazy("365 天以上"), 366,
                                                                      None))
AGING_TOTALS = ("total", "bill_count", *(key for key, *_rest in AGING_BUCKETS))


class ArrearsOrder:
    TOTAL = "total"
    OLDEST = "oldest"
    CHOICES = [(TOTAL, gettext_lazy("欠费合计从高到低")), (OLDEST, gettext_lazy("欠费时间从长到短"))]
    SQL = {TOTAL: "g.total DESC, g.oldest_due", OLDEST: "g.oldest_due, g.total DESC"}


def _taken_by(model, until):
    """The rows of one kind (``balances.TAKEN_OFF``) that took money off bills by ``until`` (None: up to now): a
    discount, waiver or void when it was made; an allocation when its payment was received, or (negative) when the
    void or refund that took it back was recorded."""
    rows = model.objects.all()
    if until is None:
        return rows
    if model is Allocation:
        rows = rows.annotate(line_at=Coalesce("reversal__created_at", "payment__received_at",
                                              output_field=DateTimeField()))
        return rows.filter(line_at__lt=until)
    return rows.filter(created_at__lt=until)


def _arrears_bills(user, filters):
    as_of = filters.as_of or timezone.localdate()
    bills = _apply_filters(scoped_bills(user), BILLS, filters, by_period=False, by_moment=False)
    return bills.filter(due_date__lte=as_of), as_of


class LazyMapping(Mapping):
    """A read-only dict computed on first use, so a report can hand out its totals before anyone asks for them
    (the page of rows usually brings them along in the same query)."""

    def __init__(self, load):
        self._load, self._data = load, None

    def _loaded(self):
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key):
        return self._loaded()[key]

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self):
        return len(self._loaded())


class ArrearsRows:
    """The arrears of the bills grouped per unit (or per payer for bills without a unit), in one SQL statement.

    What each bill still owes is its amount less what ``balances.TAKEN_OFF`` took off it: allocations, the big table
    (about one row per bill), are summed per bill through their ``bill_id`` index; discounts, waivers and voids are
    summed, in one grouped pass, for the bills the allocations left open only. Bills owing nothing are dropped and the
    rest summed per unit and bucket of days overdue. A hash join and aggregate over a million allocations spills to
    disk and costs more (ADR 0019), which is why allocations are read bill by bill.

    Pages like a queryset (``count()`` and slices, sorted by ``order``); a page read through ``prefetch`` brings the
    totals and the number of rows along (window sums), so a page of the report costs one pass over the bills, and
    ``chunks`` streams every row for an export, adding up the totals as it goes.
    """

    def __init__(self, bills, as_of, sqlite, *, units_only=False, unit_ids=None, order=ArrearsOrder.TOTAL):
        self.sqlite, self.as_of, self.db = sqlite, as_of, bills.db
        self.order = ArrearsOrder.SQL.get(order or ArrearsOrder.TOTAL, ArrearsOrder.SQL[ArrearsOrder.TOTAL])
        # Today's arrears (the usual question) need no dates: the plain per-bill sums read the bill_id indexes alone.
        until = _day_start(as_of + datetime.timedelta(days=1)) if as_of < timezone.localdate() else None
        if units_only:
            bills = bills.filter(unit__isnull=False)
        if unit_ids is not None:
            bills = bills.filter(unit_id__in=list(unit_ids))
        # SQLite sums decimals as floats: there every amount is summed in whole fen (as core.money does).
        fen = (lambda expression: Round(expression * 100)) if sqlite else (lambda expression: expression)
        fen_sql = "ROUND({} * 100)" if sqlite else "{}"
        paid = (_taken_by(Allocation, until).filter(bill=OuterRef("pk")).order_by().values("bill")
                .annotate(t=Sum(fen(F("amount")))).values("t"))
        inner = bills.annotate(
            subject_payer=Case(When(unit__isnull=True, then=F("payer_id")), default=None, output_field=IntegerField()),
            paid=Coalesce(Subquery(paid), Value(0), output_field=MONEY_FIELD))
        inner_sql, inner_params = (inner.order_by().values("pk", "unit_id", "subject_payer", "payer_id", "due_date",
                                                           "amount", "paid").query.sql_with_params())
        # Discounts, waivers and voids only ever take money off (their amounts are positive), so a bill its
        # allocations settled is settled: they are summed for the rest only, the few bills still open (``open_bills``).
        others = [_taken_by(model, until).filter(bill_id__in=RawSQL("SELECT pk FROM open_bills", [])).order_by()
                  .values_list("bill_id", "amount") for model in TAKEN_OFF if model is not Allocation]
        others_sql, others_params = others[0].union(*others[1:], all=True).query.sql_with_params()
        # OFFSET 0 keeps PostgreSQL from pulling the bills' query up into this one, which would repeat each bill's
        # allocation sum in every expression that reads ``paid``.
        fence = "" if sqlite else " OFFSET 0"
        owed_sql = (f"WITH open_bills AS (SELECT * FROM ({inner_sql}{fence}) b "
                    f"WHERE {fen_sql.format('b.amount')} - b.paid > 0) "
                    f"SELECT b.unit_id, b.subject_payer, b.payer_id, b.due_date, "
                    f"{fen_sql.format('b.amount')} - b.paid - COALESCE(o.taken, 0) AS owed "
                    f"FROM open_bills b LEFT JOIN (SELECT c.bill_id, "
                    f"SUM({fen_sql.format('c.amount')}) AS taken FROM ({others_sql}) c GROUP BY c.bill_id) o "
                    f"ON o.bill_id = b.pk")
        day = (lambda d: d.isoformat()) if sqlite else (lambda d: d)
        bucket_sql, bucket_params = [], []
        for key, _label, low, high in AGING_BUCKETS:
            condition = "o.due_date <= %s"
            bucket_params.append(day(as_of - datetime.timedelta(days=low)))
            if high is not None:
                condition += " AND o.due_date >= %s"
                bucket_params.append(day(as_of - datetime.timedelta(days=high)))
            bucket_sql.append(f"SUM(CASE WHEN {condition} THEN o.owed ELSE 0 END) AS {key}")
        self.grouped = (f"SELECT o.unit_id, o.subject_payer, SUM(o.owed) AS total, COUNT(*) AS bill_count, "
                        f"MIN(o.due_date) AS oldest_due, MAX(o.payer_id) AS payer, {', '.join(bucket_sql)} "
                        f"FROM ({owed_sql}) o WHERE o.owed > 0 GROUP BY o.unit_id, o.subject_payer")
        self.params = [*bucket_params, *inner_params, *others_params]
        self._count, self._totals, self._page = None, None, None

    # Reading

    @contextmanager
    def _cursor(self, chunked=False):
        connection = connections[self.db]
        with transaction.atomic(using=self.db):
            if connection.vendor == "postgresql":
                # One long scan: compiling it (JIT) costs seconds and gains nothing here (ADR 0019).
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
            with (connection.chunked_cursor() if chunked else connection.cursor()) as cursor:
                yield cursor

    def _rows(self, cursor):
        names = [column[0] for column in cursor.description]
        return [self._row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def _row(self, row):
        for key in ("total", *(key for key, *_rest in AGING_BUCKETS)):
            row[key] = _yuan(row[key], self.sqlite)
        row["bill_count"] = int(row["bill_count"] or 0)
        if isinstance(row.get("oldest_due"), str):
            row["oldest_due"] = datetime.date.fromisoformat(row["oldest_due"])
        return row

    def _page_sql(self, start, stop):
        window = ", ".join(f"SUM(g.{key}) OVER () AS all_{key}" for key in AGING_TOTALS)
        limit = f" LIMIT {int(stop - start)} OFFSET {int(start)}" if stop is not None else ""
        return (f"SELECT g.*, COUNT(*) OVER () AS all_subjects, {window} FROM ({self.grouped}) g "
                f"ORDER BY {self.order}, g.unit_id, g.subject_payer{limit}")

    def prefetch(self, start, stop):
        """Read the rows ``start:stop`` with the totals and the number of rows of the whole filter, in one pass."""
        if start >= 2**31:  # no list is that long; a page number typed by hand must not overflow the OFFSET
            self._page = (start, stop, [])
            return []
        with self._cursor() as cursor:
            cursor.execute(self._page_sql(start, stop), self.params)
            rows = self._rows(cursor)
        if rows:
            first = rows[0]
            self._count = first["all_subjects"]
            self._totals = self._row({key: first[f"all_{key}"] for key in AGING_TOTALS} | {"oldest_due": None})
            for row in rows:
                for key in ("all_subjects", *(f"all_{key}" for key in AGING_TOTALS)):
                    del row[key]
        self._page = (start, stop, rows)
        return rows

    def totals(self):
        if self._totals is None:
            sums = ", ".join(f"SUM(g.{key}) AS {key}" for key in AGING_TOTALS)
            with self._cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) AS subjects, {sums} FROM ({self.grouped}) g", self.params)
                [row] = self._rows(cursor)
            self._count = row.pop("subjects") if "subjects" in row else 0
            self._totals = row
        return {key: self._totals[key] for key in AGING_TOTALS}

    def count(self):
        if self._count is None:
            self.totals()
        return self._count

    def chunks(self, size=2000):
        """Every row in order, ``size`` at a time, from one statement (a server-side cursor on PostgreSQL); the
        totals are added up on the way, so an export reads the bills once."""
        sums, count = dict.fromkeys(AGING_TOTALS, 0), 0
        with self._cursor(chunked=True) as cursor:
            cursor.execute(f"SELECT g.* FROM ({self.grouped}) g ORDER BY {self.order}, g.unit_id, g.subject_payer",
                           self.params)
            names = [column[0] for column in cursor.description]
            while batch := cursor.fetchmany(size):
                rows = [self._row(dict(zip(names, row, strict=True))) for row in batch]
                for row in rows:
                    for key in AGING_TOTALS:
                        sums[key] += row[key]
                count += len(rows)
                yield rows
        self._count = count
        self._totals = {key: (value if key == "bill_count" else Decimal(value).quantize(FEN))
                        for key, value in sums.items()}

    def __len__(self):
        return self.count()

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        start, stop = index.start or 0, index.stop
        if self._page is not None:
            first, last, rows = self._page
            # Within what was read (the paginator cuts the last page's slice short at the count): no new pass.
            read_all = last is None or len(rows) < last - first
            if first <= start and (read_all or (stop is not None and stop <= last)):
                return rows[start - first:None if stop is None else stop - first]
        return self.prefetch(start, stop)


def arrears_report(user, filters):
    """欠费 by age: one row per unit (bills without a unit: per payer), what it owed at the end of ``as_of`` on
    bills due by then, split by days past the due date into 0–30, 31–90, 91–365 and over 365; sorted by what it owes
    (or by its oldest bill). The totals and the number of rows cover everything the filters find."""
    bills, as_of = _arrears_bills(user, filters)
    grouped = ArrearsRows(bills, as_of, _is_sqlite(bills), order=filters.order)

    def decorate(page):
        from aishang.customers.models import Customer

        units = Unit.objects.select_related("project").in_bulk([row["unit_id"] for row in page if row["unit_id"]])
        people = Customer.objects.in_bulk([row["payer"] for row in page if row["payer"]])
        for row in page:
            unit, payer = units.get(row["unit_id"]), people.get(row["payer"])
            row["unit"], row["payer_obj"] = unit, payer
            row["subject"] = unit.code if unit else (payer.name if payer else "--")
            row["project_name"] = unit.project.name if unit else ""
            row["payer_name"] = payer.name if payer else "--"
            row["days"] = (as_of - row["oldest_due"]).days
        return page

    columns = [Column("project_name", _("项目")), Column("subject", _("房屋/客户")), Column("payer_name", _("缴费人")),
               Column("bill_count", _("欠费笔数"), "int"), Column("oldest_due", _("最早应缴日"), "date"),
               Column("days", _("最长欠费天数"), "int"),
               *[Column(key, label, "money") for key, label, _low, _high in AGING_BUCKETS],
               Column("total", _("欠费合计"), "money")]
    totals = LazyMapping(grouped.totals)
    chart = LazyMapping(lambda: {
        "categories": [str(label) for _key, label, _low, _high in AGING_BUCKETS],
        "series": [{"name": _("欠费金额"), "data": [str(totals[key]) for key, *_rest in AGING_BUCKETS]}]})
    return ReportTable(columns, grouped, totals, chart=chart, decorate=decorate,
                       extra=LazyMapping(lambda: {"as_of": as_of, "subjects": grouped.count()}))


def _latest_payers(unit_ids):
    """{unit id: the payer of the unit's latest bill}: whom a reminder about the unit goes to."""
    latest = (Bill.objects.filter(unit_id=OuterRef("pk"), payer__isnull=False)
              .order_by("-period_start", "-pk").values("payer_id")[:1])
    return dict(Unit.objects.filter(pk__in=unit_ids).annotate(payer_id=Subquery(latest)).values_list("pk", "payer_id"))


@dataclass
class ReminderResult:
    queued: int = 0
    already: int = 0  # reminded today already
    unreachable: int = 0  # no payer or no mobile number: recorded as cancelled, not sent

    def as_dict(self):
        return {"queued": self.queued, "already": self.already, "unreachable": self.unreachable}

    def summary(self):
        return _("已加入发送队列 %(queued)s 条催缴短信；今天已催缴过 %(already)s 户；"
                 "%(unreachable)s 户没有缴费人或手机号，未发送") % self.as_dict()


REMINDER_CHUNK = 200
REMIND_JOB = "arrears_remind"
# pg_advisory_xact_lock key of 催缴 (any number unused by other locks): a chunk of reminders is queued under it.
REMINDER_LOCK = 0x61676531


def _lock_reminders(db):
    """Two 催缴 runs (two jobs, or a job and a click) that reach the same unit must not both count it as sent: each
    chunk reads which units were reminded today and queues the rest under one lock, so the second run waits for the
    first's chunk to commit and then sees its messages. (The outbox's unique dedupe key alone would already stop a
    second message, but the second run would count it as queued.) SQLite takes its single write lock at BEGIN."""
    connection = connections[db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REMINDER_LOCK])


def arrears_remind(*, user, filters, unit_ids=None, channel="sms", actor, progress=None):
    """催缴: queue an ``arrears_reminder`` to the payer of each unit in arrears (the chosen ones, or every one the
    filters find) through the notifications outbox; at most once per unit and channel a day, by the dedupe key.

    The one service behind a click on a few units and the background job for thousands. Units are read in one
    statement, then queued a chunk per transaction; ``progress(done, total)`` is told after each chunk.
    """
    from aishang.customers.models import Customer
    from aishang.notifications.choices import MessageStatus
    from aishang.notifications.models import Message
    from aishang.notifications.services import notify

    bills, as_of = _arrears_bills(user, filters)
    everyone = ArrearsRows(bills, as_of, _is_sqlite(bills), units_only=True, unit_ids=unit_ids)[:]
    today = timezone.localdate()
    result = ReminderResult()
    if progress:
        progress(0, len(everyone))
    for offset in range(0, len(everyone), REMINDER_CHUNK):
        chunk = everyone[offset:offset + REMINDER_CHUNK]
        units = Unit.objects.select_related("project__company").in_bulk([row["unit_id"] for row in chunk])
        payers = _latest_payers(list(units))
        people = Customer.objects.in_bulk([pk for pk in payers.values() if pk])
        keys = {row["unit_id"]: f"arrears:{today:%Y%m%d}:unit-{row['unit_id']}:{channel}" for row in chunk}
        with transaction.atomic(using=bills.db):
            _lock_reminders(bills.db)
            sent = set(Message.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
            for row in chunk:
                unit, payer = units[row["unit_id"]], people.get(payers.get(row["unit_id"]))
                if keys[unit.pk] in sent:
                    result.already += 1
                    continue
                if payer is None:
                    result.unreachable += 1
                    continue
                company = unit.project.company
                message = notify(
                    company=company, recipient=payer, channel=channel, template_code="arrears_reminder",
                    dedupe_key=keys[unit.pk], project=unit.project, actor=actor,
                    params={"customer": payer.name, "company": company.short_name or company.name,
                            "project": unit.project.name, "unit": unit.code,
                            "amount": format_money(row["total"]).lstrip("¥"),
                            "bill_count": row["bill_count"], "due_date": row["oldest_due"].isoformat(),
                            "overdue_days": (as_of - row["oldest_due"]).days, "as_of": as_of.isoformat()})
                if message.status == MessageStatus.CANCELLED:
                    result.unreachable += 1
                else:
                    result.queued += 1
        if progress:
            progress(offset + len(chunk), len(everyone))
    return result


ARREARS_FILTERS = ("project", "building", "fee_item", "unit", "customer")


def arrears_remind_start(*, filters, unit_ids=None, channel="sms", actor):
    """催缴 in the background: a job that runs ``arrears_remind`` as ``actor`` (in the actor's scope) on the same
    filters, the day frozen now, reporting how many units it has done; its result holds queued, already and
    unreachable."""
    from aishang.extras.jobs import job_enqueue
    from aishang.extras.models import Job

    as_of = filters.as_of or timezone.localdate()
    params = {"filters": {name: getattr(getattr(filters, name), "pk", getattr(filters, name))
                          for name in ARREARS_FILTERS if getattr(filters, name) is not None},
              "as_of": as_of.isoformat(), "unit_ids": list(unit_ids) if unit_ids is not None else None,
              "channel": channel}
    project = filters.project
    job = Job.objects.create(
        kind=REMIND_JOB, title=_("催缴短信（截至 %(as_of)s 的欠费）") % {"as_of": as_of.isoformat()},
        company_id=getattr(actor, "company_id", None), project_id=getattr(project, "pk", project),
        created_by=actor, params=params)
    return job_enqueue(job)


@job_runner(REMIND_JOB)
def run_arrears_remind(job):
    params = job.params
    filters = ReportFilters(as_of=datetime.date.fromisoformat(params["as_of"]), **params["filters"])

    def progress(done, total):
        job_progress(job, done, total, message=_("已处理 %(done)s / %(total)s 户") % {"done": done, "total": total})

    result = arrears_remind(user=job.created_by, filters=filters, unit_ids=params.get("unit_ids"),
                            channel=params.get("channel") or "sms", actor=job.created_by, progress=progress)
    job_progress(job, job.total, message=result.summary())
    return result.as_dict()
