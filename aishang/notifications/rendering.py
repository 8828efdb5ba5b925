"""Message text from a company's template: ``{name}`` placeholders filled from plain parameters.

Nothing in a template is evaluated. A placeholder is a name looked up in a dict of the
message's parameters (JSON values); there are no attributes, indexes, filters or tags, so
``{__class__}`` or ``{{ request }}`` stays as written.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PLACEHOLDER_RE = re.compile(r"\{(\w{1,40})\}")


@dataclass(frozen=True)
class TemplateKind:
    """A kind of message the product sends, with its wording until a company writes its own."""

    code: str
    name: str
    title: str
    body: str
    variables: dict = field(default_factory=dict)  # name -> label
    sample: dict = field(default_factory=dict)


BILL_VARIABLES = {
    "customer": _("客户姓名"), "company": _("物业企业"), "project": _("项目"), "unit": _("房屋"),
    "period": _("账期"), "amount": _("金额（元）"), "due_date": _("缴费期限"), "fee_items": _("收费项目"),
    "bill_count": _("账单数"),
}
BILL_SAMPLE = {"customer": "张三", "company": "爱尚物业", "project": "爱尚花园", "unit": "1-2-301",
               "period": "2026年01月", "amount": "216.90", "due_date": "2026-01-31", "fee_items": "物业费",
               "bill_count": 1, "overdue_days": 15}

TEMPLATE_KINDS = {}


def register_template_kind(kind):
    TEMPLATE_KINDS[kind.code] = kind
    return kind


register_template_kind(TemplateKind(
    "bill_posted", _("账单已出"), "{project}{period}账单已出",
    "尊敬的{customer}，您的房屋{unit}{period}{fee_items}账单已出，金额{amount}元，请于{due_date}前缴纳。",
    BILL_VARIABLES, BILL_SAMPLE))
register_template_kind(TemplateKind(
    "bill_due", _("缴费提醒"), "{project}缴费提醒",
    "尊敬的{customer}，您的房屋{unit}有{amount}元费用将于{due_date}到期，请及时缴纳。",
    BILL_VARIABLES, BILL_SAMPLE))
register_template_kind(TemplateKind(
    "bill_overdue", _("欠费提醒"), "{project}欠费提醒",
    "尊敬的{customer}，您的房屋{unit}有{amount}元费用已逾期{overdue_days}天，请尽快缴纳，如已缴请忽略。",
    {**BILL_VARIABLES, "overdue_days": _("逾期天数")}, BILL_SAMPLE))
# To owners in the message centre when a payment is booked, at the desk or online.
register_template_kind(TemplateKind(
    "payment_received", _("缴费成功"), "{project}缴费成功",
    "尊敬的{customer}，已收到您为{unit}缴纳的费用{amount}元（{fee_items}），收据号{receipt_number}，"
    "缴费时间{paid_at}。感谢您的支持！",
    {"customer": _("客户姓名"), "company": _("物业企业"), "project": _("项目"), "unit": _("房屋"),
     "amount": _("金额（元）"), "fee_items": _("收费项目"), "receipt_number": _("收据号"), "paid_at": _("缴费时间")},
    {"customer": "张三", "company": "爱尚物业", "project": "爱尚花园", "unit": "1-2-301", "amount": "650.70",
     "fee_items": "物业费", "receipt_number": "SJ2026-000123", "paid_at": "2026-11-24 14:08"}))
# 催缴 from the arrears report (统计台账 › 欠费): one message per unit a day with all it owes.
register_template_kind(TemplateKind(
    "arrears_reminder", _("欠费催缴"), "{project}欠费催缴",
    "尊敬的{customer}，截至{as_of}，您的房屋{unit}尚欠费用{amount}元（{bill_count}笔，最早应缴日{due_date}，"
    "已逾期{overdue_days}天），请尽快缴纳，如已缴请忽略。",
    {**BILL_VARIABLES, "overdue_days": _("最长逾期天数"), "as_of": _("统计日期")},
    {**BILL_SAMPLE, "amount": "1,302.40", "bill_count": 6, "due_date": "2026-06-15", "overdue_days": 160,
     "as_of": "2026-11-22"}))

# The owner portal's sign-in code (业主端登录): SMS only, never shown in the owner's message centre.
register_template_kind(TemplateKind(
    "owner_login_code", _("业主登录验证码"), "登录验证码",
    "您的登录验证码为{code}，{minutes}分钟内有效。请勿告诉他人，如非本人操作请忽略。",
    {"code": _("验证码"), "minutes": _("有效分钟数")}, {"code": "123456", "minutes": 5}))

# To staff, about approvals of waivers and voids (the message also carries a link to the request).
APPROVAL_VARIABLES = {
    "action": _("业务"), "amount": _("金额（元）"), "project": _("项目"), "unit": _("房屋"), "bill": _("账单"),
    "requester": _("申请人"), "reason": _("申请原因"),
}
APPROVAL_SAMPLE = {"action": "减免", "amount": "300.00", "project": "爱尚花园", "unit": "1-2-301",
                   "bill": "物业费 2026-11", "requester": "陈静", "reason": "漏水影响使用", "level": 1, "role": "财务",
                   "decided_by": "林晓燕", "comment": "金额超出减免标准"}
register_template_kind(TemplateKind(
    "approval_pending", _("待审批提醒"), "{action}申请待您审批",
    "{requester}提交的{action}申请已到第{level}级（{role}），请审批：{project} {unit} {bill}，金额{amount}元。"
    "原因：{reason}",
    {**APPROVAL_VARIABLES, "level": _("级次"), "role": _("审批角色")}, APPROVAL_SAMPLE))
register_template_kind(TemplateKind(
    "approval_approved", _("审批通过通知"), "{action}申请已通过",
    "您提交的{action}申请已审批通过：{project} {unit} {bill}，金额{amount}元。",
    {**APPROVAL_VARIABLES, "decided_by": _("审批人")}, APPROVAL_SAMPLE))
register_template_kind(TemplateKind(
    "approval_rejected", _("审批驳回通知"), "{action}申请被驳回",
    "您提交的{action}申请被{decided_by}驳回：{project} {unit} {bill}，金额{amount}元。理由：{comment}",
    {**APPROVAL_VARIABLES, "decided_by": _("审批人"), "comment": _("驳回理由")}, APPROVAL_SAMPLE))


def placeholders(text):
    return list(dict.fromkeys(PLACEHOLDER_RE.findall(text or "")))


def unknown_placeholders(code, text):
    kind = TEMPLATE_KINDS.get(code)
    if kind is None:
        return []
    return [name for name in placeholders(text) if name not in kind.variables]


def _display(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def render_text(text, params):
    """Fill ``{name}`` from ``params``; unknown names stay as written, so a typo is visible, not silent."""
    params = params if isinstance(params, dict) else {}

    def fill(match):
        name = match.group(1)
        return _display(params[name]) if name in params else match.group(0)

    return PLACEHOLDER_RE.sub(fill, text or "")
