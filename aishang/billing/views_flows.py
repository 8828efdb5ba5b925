"""审批流程设置: the company's approval flows and their levels, read by finance, edited by administrators.

The levels are edited as a list of rows; 添加, 删除, 上移 and 下移 post the rows as typed and get them back
re-numbered (by htmx, only the rows are swapped; without JavaScript the whole page), and nothing is saved
until 保存.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aishang.core.money import format_money
from aishang.users.models import Role

from .approvals import MAX_LEVELS, approval_flow_bands, approval_flow_errors, approval_flow_update
from .forms import ApprovalFlowForm, ApprovalLevelFormSet
from .models import ApprovalAction, ApprovalFlow, ApprovalRequest, ApprovalStatus

PREFIX = "levels"
EDIT_PERMISSIONS = ("billing.change_approvalflow", "billing.change_approvallevel")


def _require(user, *permissions):
    if not user.has_perms(permissions):
        raise PermissionDenied(_("没有权限"))


def _active_staff_by_role(company_ids):
    """How many active staff hold each role, to flag a level that nobody could decide."""
    roles = Role.objects.filter(company_id__in=company_ids).annotate(
        staff=Count("users", filter=Q(users__is_active=True), distinct=True))
    return {role.pk: role.staff for role in roles}


def _band_label(band):
    start, end = band["start"], band["end"]
    if start is None and end is None:
        return _("所有金额")
    if start is None:
        return _("低于 %(amount)s") % {"amount": format_money(end)}
    if end is None:
        return _("%(amount)s 及以上") % {"amount": format_money(start)}
    return _("%(start)s 及以上、低于 %(end)s") % {"start": format_money(start), "end": format_money(end)}


@login_required
def approval_flow_list(request):
    _require(request.user, "billing.view_approvalflow")
    flows = sorted(ApprovalFlow.objects.restrict(request.user, "view").select_related("company")
                   .prefetch_related("levels__role"),
                   key=lambda flow: (flow.company_id, list(ApprovalAction).index(flow.action)))
    staff = _active_staff_by_role({flow.company_id for flow in flows})
    rows = [{"flow": flow, "levels": [(level, staff.get(level.role_id, 0)) for level in flow.levels.all()],
             "bands": [{**band, "label": _band_label(band)} for band in approval_flow_bands(flow.levels.all())]}
            for flow in flows]
    return render(request, "billing/approvalflow_list.html", {
        "title": _("审批流程设置"), "rows": rows, "show_company": request.user.is_superuser,
        "can_change": request.user.has_perms(EDIT_PERMISSIONS)})


def _posted_rows(data):
    """The level rows as typed, without validation, for 添加/删除/上移/下移."""
    try:
        count = min(int(data.get(f"{PREFIX}-TOTAL_FORMS", 0)), MAX_LEVELS)
    except ValueError:
        count = 0
    return [{"role": data.get(f"{PREFIX}-{index}-role", ""), "min_amount": data.get(f"{PREFIX}-{index}-min_amount", "")}
            for index in range(max(count, 0))]


def _rearrange(rows, op):
    """Apply one row operation ("add", "remove-2", "up-2", "down-2"); returns the rows and the row to focus."""
    verb, _sep, index = op.partition("-")
    if verb == "add":
        if len(rows) < MAX_LEVELS:
            rows.append({"role": "", "min_amount": ""})
        return rows, len(rows) - 1
    if not index.isdigit() or int(index) >= len(rows):
        return rows, None
    index = int(index)
    if verb == "remove":
        rows.pop(index)
        return rows, min(index, len(rows) - 1) if rows else None
    other = index - 1 if verb == "up" else index + 1 if verb == "down" else None
    if other is None or not 0 <= other < len(rows):
        return rows, index
    rows[index], rows[other] = rows[other], rows[index]
    return rows, other


def _add_errors(form, formset, errors):
    """Put the service's errors on the fields they name, unless the field already says what is wrong."""
    flow_errors = []
    for key, messages_ in errors.items():
        target, field = form, key
        if key.startswith(f"{PREFIX}-"):
            _prefix, index, field = key.split("-", 2)
            target = formset.forms[int(index)] if int(index) < len(formset.forms) else None
        if target is None or field not in target.fields:
            flow_errors.extend(messages_)
        elif not target.errors.get(field):
            for message in messages_:
                target.add_error(field, message)
    return flow_errors


@login_required
def approval_flow_edit(request, pk):
    user = request.user
    _require(user, *EDIT_PERMISSIONS)
    flow = get_object_or_404(ApprovalFlow.objects.restrict(user, "change").select_related("company"), pk=pk)
    roles = Role.objects.filter(company_id=flow.company_id).order_by("id")
    kwargs = {"prefix": PREFIX, "form_kwargs": {"roles": roles}}
    existing = list(flow.levels.order_by("level"))
    focus, flow_errors, status = None, [], 200
    op = request.POST.get("op", "save") if request.method == "POST" else None
    if op is None:
        form = ApprovalFlowForm(initial={"name": flow.name, "is_active": flow.is_active})
        formset = ApprovalLevelFormSet(initial=[{"role": level.role_id, "min_amount": level.min_amount}
                                                for level in existing], **kwargs)
    elif op != "save":
        rows, focus = _rearrange(_posted_rows(request.POST), op)
        form = ApprovalFlowForm(initial={"name": request.POST.get("name", ""),
                                         "is_active": bool(request.POST.get("is_active"))})
        formset = ApprovalLevelFormSet(initial=rows, **kwargs)
    else:
        form = ApprovalFlowForm(request.POST)
        formset = ApprovalLevelFormSet(request.POST, **kwargs)
        valid = form.is_valid() & formset.is_valid()
        name = form.cleaned_data.get("name", "")
        levels = [{"role": row.cleaned_data.get("role"), "min_amount": row.cleaned_data.get("min_amount")}
                  for row in formset.forms]
        if len(levels) > len(existing):
            _require(user, "billing.add_approvallevel")
        if len(levels) < len(existing):
            _require(user, "billing.delete_approvallevel")
        if valid:
            try:
                approval_flow_update(flow, name=name, is_active=form.cleaned_data["is_active"], levels=levels,
                                     actor=user)
            except ValidationError as error:
                flow_errors = _add_errors(form, formset, error.message_dict if hasattr(error, "error_dict")
                                          else {"levels": error.messages})
            else:
                messages.success(request, _("审批流程「%(name)s」已保存；之后提交的申请按新流程审批") % {"name": name})
                return redirect("billing:approvalflow_list")
        else:
            # Show every problem in one round: the service's rules too, on the fields that parsed.
            flow_errors = _add_errors(form, formset, approval_flow_errors(flow, name=name, levels=levels))
        status = 400
    context = {
        "title": _("编辑审批流程：%(name)s") % {"name": flow.name}, "object": flow, "form": form,
        "formset": formset, "flow_errors": flow_errors, "focus": focus, "max_levels": MAX_LEVELS,
        "pending_count": ApprovalRequest.objects.filter(company_id=flow.company_id, action=flow.action,
                                                        status=ApprovalStatus.PENDING).count(),
        "staffless_roles": [str(pk) for pk, count in _active_staff_by_role([flow.company_id]).items() if not count],
    }
    template = "billing/_approval_levels.html" if request.htmx and op not in (None, "save") else \
        "billing/approvalflow_form.html"
    return render(request, template, context, status=status)
