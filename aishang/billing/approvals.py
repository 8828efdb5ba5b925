"""Approvals of corrections: waivers (减免) and voids (作废) of bills, voids and refunds of payments, refunds of
prepaid balances and deposits. Multi-level flows by role, then correction rows and the ledger.

Nothing is edited: an approved request writes correction rows (``Waiver``, ``BillVoid``, ``PaymentReversal``,
movements) and one journal entry in the same transaction as the last decision (DESIGN.md, "Money").
"""

import contextlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.context import change_context, current_context
from aishang.core.money import format_money
from aishang.extras.changelog import record_change, serialize_object
from aishang.extras.choices import ChangeAction
from aishang.extras.features import ChangeLoggedModel
from aishang.extras.services import register_object_delete, register_object_save
from aishang.notifications.choices import Channel
from aishang.notifications.services import notify

from .balances import bill_outstanding
from .ledger import journal_post
from .models import (
    Account,
    ApprovalAction,
    ApprovalDecision,
    ApprovalFlow,
    ApprovalLevel,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    Bill,
    BillVoid,
    Deposit,
    Payment,
    PaymentMethod,
    PrepaidAccount,
    Waiver,
)
from .reversals import (
    balance_refund_apply,
    balance_refund_check,
    payment_refund_plan,
    payment_reversal_apply,
    payment_void_plan,
)

SUPPORTED_ACTIONS = tuple(ApprovalAction)
BILL_ACTIONS = (ApprovalAction.WAIVER, ApprovalAction.VOID)
PAYMENT_ACTIONS = (ApprovalAction.PAYMENT_VOID, ApprovalAction.REFUND)
DEFAULT_FLOWS = {
    ApprovalAction.WAIVER: ("减免审批", [("finance", None), ("admin", Decimal("500.01"))]),
    ApprovalAction.VOID: ("作废审批", [("finance", None), ("admin", None)]),
    ApprovalAction.PAYMENT_VOID: ("收款作废审批", [("finance", None), ("admin", None)]),
    ApprovalAction.REFUND: ("收款退款审批", [("finance", None), ("admin", Decimal("500.01"))]),
    ApprovalAction.PREPAID_REFUND: ("预存退款审批", [("finance", None), ("admin", Decimal("1000.01"))]),
    ApprovalAction.DEPOSIT_REFUND: ("押金退还审批", [("finance", None)]),
}


def approval_flows_install_defaults(company):
    """Waivers: 财务 for any amount, 管理员 as well above 500 元; voids: 财务 then 管理员, always."""
    roles = {role.code: role for role in company.roles.filter(code__in=["finance", "admin"])}
    flows = []
    for action, (name, levels) in DEFAULT_FLOWS.items():
        flow, created = ApprovalFlow.objects.get_or_create(company=company, action=action, defaults={"name": name})
        if created:
            ApprovalLevel.objects.bulk_create([
                ApprovalLevel(flow=flow, level=number, role=roles[code], min_amount=min_amount)
                for number, (code, min_amount) in enumerate(levels, start=1)
            ])
        flows.append(flow)
    return flows


def approval_route(*, company, action, amount):
    """The levels a request of this amount passes through, in order, as stored on the request."""
    flow = ApprovalFlow.objects.filter(company=company, action=action, is_active=True).first()
    levels = [] if flow is None else [level for level in flow.levels.select_related("role").order_by("level")
                                      if level.applies_to(amount)]
    if not levels:
        raise ValidationError(_("尚未配置「%(action)s」的审批流程") % {"action": ApprovalAction(action).label})
    return [{"level": level.level, "role": level.role_id, "role_name": level.role.name} for level in levels]


# Editing a flow (审批流程设置)

MAX_LEVELS = 10


def approval_flow_errors(flow, *, name, levels):
    """What is wrong with a proposed flow, as {key: [messages]}; empty when nothing is.

    Keys are ``name``, ``levels`` (the flow as a whole) and ``levels-<i>-role`` / ``levels-<i>-min_amount``
    for the i-th level from 0, the names of the page's fields. Two rules keep a flow readable: level 1
    applies to every amount (or small requests would find nobody to approve them), and 起审金额 never
    falls going up, so a larger amount passes through the same levels as a smaller one and then more.
    """
    errors = {}

    def add(key, message):
        errors.setdefault(key, []).append(message)

    if not name:
        add("name", _("请填写流程名称"))
    elif len(name) > ApprovalFlow._meta.get_field("name").max_length:
        add("name", _("流程名称最多 %(count)s 个字") % {"count": ApprovalFlow._meta.get_field("name").max_length})
    if not levels:
        add("levels", _("至少需要一个审批级次"))
    elif len(levels) > MAX_LEVELS:
        add("levels", _("最多设置 %(count)s 个审批级次") % {"count": MAX_LEVELS})
    floor = Decimal("0")  # the highest 起审金额 above this level
    for index, level in enumerate(levels):
        role, min_amount = level.get("role"), level.get("min_amount")
        role_key, amount_key = f"levels-{index}-role", f"levels-{index}-min_amount"
        if role is None:
            add(role_key, _("请选择审批角色"))
        elif role.company_id != flow.company_id:
            add(role_key, _("请选择本企业的角色"))
        if min_amount is None:
            if floor > 0:
                add(amount_key, _("上一级从 %(amount)s 起才审批，本级不能对所有金额生效，请填写不低于该金额的起审金额")
                    % {"amount": format_money(floor)})
            continue
        if not min_amount.is_finite():
            add(amount_key, _("请输入正确的金额"))
        elif min_amount < 0:
            add(amount_key, _("起审金额不能为负数"))
        elif min_amount != min_amount.quantize(Decimal("0.01")):
            add(amount_key, _("起审金额最多两位小数"))
        elif index == 0 and min_amount > 0:
            add(amount_key, _("第 1 级须对所有金额生效，请将起审金额留空（否则低于该金额的申请将无人审批）"))
        elif min_amount < floor:
            add(amount_key, _("起审金额不能低于上一级的 %(amount)s：金额越大，审批级次只增不减")
                % {"amount": format_money(floor)})
        else:
            floor = min_amount
    return errors


def _changes_by(actor):
    """The change log names whoever the request's middleware set; from a shell, a job or a test, ``actor``."""
    context = current_context()
    if actor is None or context.actor is not None:
        return contextlib.nullcontext()
    return change_context(actor=actor, source=context.source)


def _log_change(obj, action, before=None):
    # Flows and levels are not ChangeLoggedModel (no signal logs them), so their service logs them here.
    if not isinstance(obj, ChangeLoggedModel):
        record_change(obj, action, before=before)


def approval_flow_update(flow, *, name, is_active, levels, actor):
    """Rename a flow, switch it on or off and replace its levels, numbered 1..n in the order given.

    ``levels`` is ``[{"role": Role, "min_amount": Decimal or None}, ...]``. Requests already submitted keep
    the route stored on them; only requests submitted afterwards follow the new levels. Level n is updated
    in place, so the change log reads "第 2 级: 财务 → 管理员" rather than a delete and a create.
    """
    name = (name or "").strip()
    levels = [{"role": level.get("role"), "min_amount": level.get("min_amount")} for level in levels]
    errors = approval_flow_errors(flow, name=name, levels=levels)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), _changes_by(actor):
        # Two administrators saving the same flow at once: the second waits, then its levels replace the
        # first's as a whole instead of the two lists interleaving.
        flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
        before = serialize_object(flow)
        flow.name, flow.is_active = name, bool(is_active)
        register_object_save(obj=flow, actor=actor)
        _log_change(flow, ChangeAction.UPDATE, before)
        existing = list(flow.levels.order_by("level"))
        for level in existing[len(levels):]:
            _log_change(level, ChangeAction.DELETE, serialize_object(level))
            register_object_delete(obj=level, actor=actor)
        for number, wanted in enumerate(levels, start=1):
            if number > len(existing):
                level = ApprovalLevel(flow=flow, level=number, role=wanted["role"], min_amount=wanted["min_amount"])
                register_object_save(obj=level, actor=actor)
                _log_change(level, ChangeAction.CREATE)
                continue
            level = existing[number - 1]
            if (level.role_id, level.min_amount) == (wanted["role"].pk, wanted["min_amount"]):
                continue
            before = serialize_object(level)
            level.role, level.min_amount = wanted["role"], wanted["min_amount"]
            register_object_save(obj=level, actor=actor)
            _log_change(level, ChangeAction.UPDATE, before)
    return flow


def approval_flow_bands(levels):
    """How a flow routes requests by amount, for people reading it: [{"start", "end", "levels"}], where a band
    covers amounts from ``start`` (None: the smallest) up to below ``end`` (None: no limit)."""
    levels = list(levels)
    bands = []
    for start in [None, *sorted({level.min_amount for level in levels if level.min_amount})]:
        applying = [level for level in levels if level.applies_to(start or Decimal("0"))]
        if bands and bands[-1]["levels"] == applying:
            continue
        if bands:
            bands[-1]["end"] = start
        bands.append({"start": start, "end": None, "levels": applying})
    return bands


def _parse_amount(amount):
    try:
        amount = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("请输入正确的金额")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("金额须大于 0")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("金额最多两位小数")})
    return amount


PENDING_MESSAGES = {
    "bill": gettext_lazy("该账单已有待审批的%(action)s申请"),
    "payment": gettext_lazy("该收款已有待审批的%(action)s申请"),
    "prepaid_account": gettext_lazy("该预存账户已有待审批的%(action)s申请"),
    "deposit": gettext_lazy("该押金已有待审批的%(action)s申请"),
}


def _locked_subject(action, *, bill, payment, prepaid_account, deposit):
    """The request's subject, locked, checked to suit the action: (field name, object)."""
    if action in BILL_ACTIONS:
        subject, name, model = bill, "bill", Bill
    elif action in PAYMENT_ACTIONS:
        subject, name, model = payment, "payment", Payment
    elif action == ApprovalAction.PREPAID_REFUND:
        subject, name, model = prepaid_account, "prepaid_account", PrepaidAccount
    else:
        subject, name, model = deposit, "deposit", Deposit
    if subject is None:
        raise ValidationError(_("请选择申请的对象"))
    return name, model.objects.select_for_update().select_related("project").get(pk=subject.pk)


def _checked_amount(action, subject, *, amount, refund_method):
    """The amount a request of this action on this subject is for, or ValidationError with what is wrong."""
    if action == ApprovalAction.VOID:
        if BillVoid.objects.filter(bill=subject).exists():
            # A bill is voided once; what a later payment void reopens on it is collected or waived.
            raise ValidationError(_("该账单已作废过，不能再次作废；重新打开的未结金额请收款或申请减免"))
        amount = bill_outstanding(subject)
        if amount <= 0:
            raise ValidationError(_("该账单没有未结金额，无需作废"))
        return amount
    if action == ApprovalAction.PAYMENT_VOID:
        return sum(payment_void_plan(subject).methods.values(), Decimal(0))
    amount = _parse_amount(amount)
    if action == ApprovalAction.WAIVER:
        outstanding = bill_outstanding(subject)
        if outstanding <= 0 and BillVoid.objects.filter(bill=subject).exists():
            raise ValidationError(_("该账单已作废"))
        if amount > outstanding:
            raise ValidationError({"amount": _("减免金额不能超过账单未结金额 %(outstanding)s")
                                   % {"outstanding": format_money(outstanding)}})
    elif action == ApprovalAction.REFUND:
        payment_refund_plan(subject, amount=amount, method=refund_method)
    else:
        balance_refund_check(subject=subject, amount=amount, method=refund_method)
    return amount


def approval_request_create(*, action, reason, actor, bill=None, payment=None, prepaid_account=None, deposit=None,
                            amount=None, refund_method=""):
    """Submit a request: a waiver of ``amount`` or a void of what is still outstanding on a bill; a void of a
    payment; a refund of ``amount`` of a payment, a prepaid account or a deposit, paid out by ``refund_method``.

    What is asked is checked now (and again at the last approval), so a request that could never be carried
    out is refused at once with the reason.
    """
    if action not in SUPPORTED_ACTIONS:
        raise ValidationError(_("不支持的审批业务"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写申请原因")})
    refund_method = refund_method or ""
    if action not in (ApprovalAction.REFUND, ApprovalAction.PREPAID_REFUND, ApprovalAction.DEPOSIT_REFUND):
        refund_method = ""
    elif refund_method not in PaymentMethod.values:
        raise ValidationError({"refund_method": _("请选择退款方式")})
    with transaction.atomic():
        name, subject = _locked_subject(action, bill=bill, payment=payment, prepaid_account=prepaid_account,
                                        deposit=deposit)
        amount = _checked_amount(action, subject, amount=amount, refund_method=refund_method)
        pending = ApprovalRequest.objects.filter(**{name: subject}, status=ApprovalStatus.PENDING)
        if name != "payment":  # a payment has one request under way at a time, of either kind
            pending = pending.filter(action=action)
        if pending.exists():
            raise ValidationError(PENDING_MESSAGES[name] % {"action": pending.first().get_action_display()})
        project = subject.project
        route = approval_route(company=project.company, action=action, amount=amount)
        try:
            with transaction.atomic():
                request = ApprovalRequest.objects.create(
                    company_id=project.company_id, project=project, action=action, **{name: subject},
                    amount=amount, refund_method=refund_method, reason=reason, requested_by=actor, route=route,
                    current_level=route[0]["level"], current_role_id=route[0]["role"])
        except IntegrityError:
            raise ValidationError(PENDING_MESSAGES[name] % {"action": ApprovalAction(action).label}) from None
        approval_notify_approvers(request, actor=actor)
        return request


def approval_refusal(request, actor):
    """Why ``actor`` may not decide the request's current level now, or ``None`` if they may."""
    if request.status != ApprovalStatus.PENDING:
        return _("该申请已%(status)s，不能再审批") % {"status": request.get_status_display()}
    if request.requested_by_id == actor.pk:
        return _("不能审批自己提交的申请")
    if not actor.is_superuser and request.project_id not in actor.permitted_project_ids():
        return _("该申请不在您负责的项目内")
    if not actor.roles.filter(pk=request.current_role_id).exists():
        step = request.route_level(request.current_level) or {}
        return _("第 %(level)s 级须由「%(role)s」审批") % {"level": request.current_level,
                                                          "role": step.get("role_name", "")}
    if request.steps.filter(decided_by=actor).exists():
        return _("同一申请的各级须由不同的人审批")
    return None


def approval_decide(*, request, actor, approve, comment=""):
    """Record one decision; the last approval writes the correction row and its journal entry."""
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("驳回须填写理由")})
    with transaction.atomic():
        request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        refusal = approval_refusal(request, actor)
        if refusal:
            raise ValidationError(refusal)
        now = timezone.now()
        ApprovalStep.objects.create(request=request, level=request.current_level, role_id=request.current_role_id,
                                    decided_by=actor, comment=comment, decided_at=now,
                                    decision=ApprovalDecision.APPROVE if approve else ApprovalDecision.REJECT)
        following = request.next_level() if approve else None
        if not approve:
            request.status, request.decided_at = ApprovalStatus.REJECTED, now
        elif following is not None:
            request.current_level, request.current_role_id = following["level"], following["role"]
        else:
            _apply(request, actor, now)
            request.status, request.decided_at = ApprovalStatus.APPROVED, now
        request.save(update_fields=["status", "decided_at", "current_level", "current_role", "updated_at"])
        if request.is_pending:
            approval_notify_approvers(request, actor=actor)
        else:
            approval_notify_requester(request, actor=actor)
        return request


def _apply(request, actor, now):
    if request.action in PAYMENT_ACTIONS:
        payment_reversal_apply(request, actor=actor)
    elif request.action in (ApprovalAction.PREPAID_REFUND, ApprovalAction.DEPOSIT_REFUND):
        balance_refund_apply(request, actor=actor)
    else:
        _apply_to_bill(request, actor, now)


def _apply_to_bill(request, actor, now):
    bill = Bill.objects.select_for_update().select_related("project", "fee_item").get(pk=request.bill_id)
    outstanding = bill_outstanding(bill)
    if BillVoid.objects.filter(bill=bill).exists() and (request.action == ApprovalAction.VOID or outstanding <= 0):
        raise ValidationError(_("该账单已作废"))
    memo = f"{bill.unit.code if bill.unit_id else ''} {bill}".strip()
    if request.action == ApprovalAction.WAIVER:
        if request.amount > outstanding:
            raise ValidationError(_("账单未结金额已不足 %(amount)s，不能减免")
                                  % {"amount": format_money(request.amount)})
        Waiver.objects.create(project=bill.project, bill=bill, request=request, amount=request.amount,
                              created_at=now)
        journal_post(project=bill.project, event="waiver_approved", memo=memo[:200], actor=actor, lines=[
            (Account.WAIVER, bill.fee_item, request.amount),
            (Account.RECEIVABLE, bill.fee_item, -request.amount),
        ])
    elif request.action == ApprovalAction.VOID:
        if outstanding <= 0:
            raise ValidationError(_("该账单没有未结金额，无需作废"))
        BillVoid.objects.create(project=bill.project, bill=bill, request=request, amount=outstanding, created_at=now)
        journal_post(project=bill.project, event="bill_voided", memo=memo[:200], actor=actor, lines=[
            (Account.REVENUE, bill.fee_item, outstanding),
            (Account.RECEIVABLE, bill.fee_item, -outstanding),
        ])


def approval_request_withdraw(*, request, actor):
    with transaction.atomic():
        request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.requested_by_id != actor.pk:
            raise ValidationError(_("只有申请人可以撤回"))
        if request.status != ApprovalStatus.PENDING:
            raise ValidationError(_("该申请已%(status)s，不能撤回") % {"status": request.get_status_display()})
        request.status, request.decided_at = ApprovalStatus.WITHDRAWN, timezone.now()
        request.save(update_fields=["status", "decided_at", "updated_at"])
        return request


def install_company_flows(sender, *, company, **kwargs):
    approval_flows_install_defaults(company)


# Telling people: approvers when a request reaches their level, the requester when it is decided

STAFF_CHANNELS = (Channel.IN_APP, Channel.EMAIL)
STAFF_ADDRESS = {Channel.EMAIL: "email", Channel.SMS: "mobile"}


def approval_approvers(request):
    """Who may decide the request's current level: active staff of its company holding the level's role and
    reaching its project, except the requester and anyone who decided an earlier level (see approval_refusal)."""
    from aishang.users.models import User

    return (User.objects.filter(company_id=request.company_id, is_active=True, roles=request.current_role_id)
            .filter(Q(scope_all_projects=True) | Q(projects=request.project_id))
            .exclude(pk=request.requested_by_id)
            .exclude(pk__in=request.steps.values("decided_by"))
            .distinct().order_by("pk"))


def _notice_params(request, **extra):
    return {"action": str(ApprovalAction(request.action).label), "amount": format_money(request.amount).lstrip("¥"),
            "project": request.project.name, "unit": str(request.subject_unit or ""),
            "bill": str(request.subject_label), "requester": str(request.requested_by),
            "reason": request.reason, "link": request.get_absolute_url(), **extra}


def _tell(request, user, *, template_code, params, key, channels, actor):
    """Queue the notice on each channel the person has an address for; delivery starts after commit."""
    messages = []
    for channel in channels:
        if channel in STAFF_ADDRESS and not getattr(user, STAFF_ADDRESS[channel], ""):
            continue  # no address: nothing to queue rather than a cancelled row for every such colleague
        messages.append(notify(company=request.company, recipient=user, channel=channel,
                               template_code=template_code, params=params, project=request.project,
                               dedupe_key=f"{key}:{user.pk}:{channel}", actor=actor))
    return messages


def approval_notify_approvers(request, *, channels=STAFF_CHANNELS, actor=None):
    """Tell everyone who may decide the current level that the request waits for them.

    Once per (request, level, person, channel) by the dedupe key, so calling it again queues nothing.
    """
    if not request.is_pending or request.current_level is None:
        return []
    step = request.route_level(request.current_level) or {}
    params = _notice_params(request, level=request.current_level, role=step.get("role_name", ""))
    return [message for user in approval_approvers(request)
            for message in _tell(request, user, template_code="approval_pending", params=params, channels=channels,
                                 key=f"approval:{request.pk}:level-{request.current_level}", actor=actor)]


def approval_notify_requester(request, *, channels=STAFF_CHANNELS, actor=None):
    """Tell the requester that the request was approved or rejected, once."""
    requester = request.requested_by
    if request.status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        return []
    if requester.company_id != request.company_id:
        return []  # a platform operator (no company) has no inbox in the company's outbox
    last = request.steps.select_related("decided_by").order_by("-decided_at", "-id").first()
    params = _notice_params(request, decided_by=str(last.decided_by) if last else "",
                            comment=last.comment if last else "")
    code = "approval_approved" if request.status == ApprovalStatus.APPROVED else "approval_rejected"
    return _tell(request, requester, template_code=code, params=params, channels=channels,
                 key=f"approval:{request.pk}:{request.status}", actor=actor)
