"""Approvals of waivers (减免) and voids (作废): multi-level flows by role, then correction rows and the ledger.

The bill is never edited: an approved request writes a ``Waiver`` or ``BillVoid`` row and one journal entry
in the same transaction as the last decision (DESIGN.md, "Money").
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aishang.core.money import format_money

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
    Waiver,
)
from .selectors import bill_outstanding

SUPPORTED_ACTIONS = (ApprovalAction.WAIVER, ApprovalAction.VOID)
DEFAULT_FLOWS = {
    ApprovalAction.WAIVER: ("减免审批", [("finance", None), ("admin", Decimal("500.01"))]),
    ApprovalAction.VOID: ("作废审批", [("finance", None), ("admin", None)]),
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


def approval_request_create(*, action, bill, amount=None, reason, actor):
    """Submit a waiver of ``amount`` or a void of what is still outstanding on the bill."""
    if action not in SUPPORTED_ACTIONS:
        raise ValidationError(_("不支持的审批业务"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写申请原因")})
    with transaction.atomic():
        bill = Bill.objects.select_for_update().select_related("project").get(pk=bill.pk)
        if BillVoid.objects.filter(bill=bill).exists():
            raise ValidationError(_("该账单已作废"))
        outstanding = bill_outstanding(bill)
        if action == ApprovalAction.VOID:
            amount = outstanding
            if amount <= 0:
                raise ValidationError(_("该账单没有未结金额，无需作废"))
        else:
            amount = _parse_amount(amount)
            if amount > outstanding:
                raise ValidationError({"amount": _("减免金额不能超过账单未结金额 %(outstanding)s")
                                       % {"outstanding": format_money(outstanding)}})
        if ApprovalRequest.objects.filter(bill=bill, action=action, status=ApprovalStatus.PENDING).exists():
            raise ValidationError(_("该账单已有待审批的%(action)s申请") % {"action": ApprovalAction(action).label})
        route = approval_route(company=bill.project.company, action=action, amount=amount)
        try:
            with transaction.atomic():
                return ApprovalRequest.objects.create(
                    company_id=bill.project.company_id, project=bill.project, action=action, bill=bill,
                    amount=amount, reason=reason, requested_by=actor, route=route,
                    current_level=route[0]["level"], current_role_id=route[0]["role"])
        except IntegrityError:
            raise ValidationError(_("该账单已有待审批的%(action)s申请")
                                  % {"action": ApprovalAction(action).label}) from None


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
        return request


def _apply(request, actor, now):
    bill = Bill.objects.select_for_update().select_related("project", "fee_item").get(pk=request.bill_id)
    if BillVoid.objects.filter(bill=bill).exists():
        raise ValidationError(_("该账单已作废"))
    outstanding = bill_outstanding(bill)
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
