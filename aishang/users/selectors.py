"""Reads for the staff and role pages: who may manage whom, the permission matrix, lock-outs."""

import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aishang.estate.models import Project

from .models import Role, User
from .roles import REGISTER_MODELS

ACTIONS = (("view", _("查看")), ("add", _("新增")), ("change", _("修改")), ("delete", _("删除")))
APP_TITLES = {"estate": _("资源管理"), "customers": _("客户管理"), "billing": _("收费管理"), "meters": _("水电抄表"),
              "payments": _("线上支付"), "notifications": _("消息通知"), "users": _("员工与权限"), "extras": _("扩展")}
MATRIX_MODELS = {
    **REGISTER_MODELS,
    "billing": ["feeitem", "chargerule", "ruleprice", "rulebinding", "discountscheme", "billrunschedule", "billrun",
                "bill", "approvalflow", "approvallevel", "approvalrequest", "payment", "prepaidaccount",
                "deposit", "paymentreversal", "shiftclose", "receipttemplate", "printerprofile"],
    "meters": ["meter", "meterreading"],
    "payments": ["paymentorder", "gatewayrefund", "gatewayconfig"],
    "notifications": ["message", "messagetemplate", "smsproviderconfig"],
    "users": ["user", "role"],
    "extras": ["customfield"],
}
# Company-level or platform-level actions a company's role never holds; staff are deactivated, not deleted.
NOT_OFFERED = {"estate.add_company", "estate.delete_company", "users.delete_user",
               # Money rows are corrected by new rows, never changed or deleted.
               "billing.change_bill", "billing.delete_bill", "billing.change_billrun", "billing.delete_billrun",
               "billing.change_payment", "billing.delete_payment", "billing.change_deposit", "billing.delete_deposit",
               "billing.add_paymentreversal", "billing.change_paymentreversal", "billing.delete_paymentreversal",
               "billing.change_shiftclose", "billing.delete_shiftclose",
               # A reading is corrected by the reading service (later readings are measured from it).
               "meters.change_meterreading", "meters.delete_meterreading",
               # Owners place online orders and gateways' answers move them; refunds come from approved requests.
               "payments.add_paymentorder", "payments.change_paymentorder", "payments.delete_paymentorder",
               "payments.add_gatewayrefund", "payments.delete_gatewayrefund", "payments.delete_gatewayconfig"}
# Permissions of log models that are only ever read, offered as single checkboxes.
READ_ONLY_LABELS = {"extras.view_objectchange": _("查看变更记录"), "extras.view_auditevent": _("查看审计日志"),
                    "billing.view_waiver": _("查看减免记录"), "billing.view_billvoid": _("查看作废记录"),
                    "billing.view_billdiscount": _("查看账单优惠"), "billing.view_journalentry": _("查看记账凭证")}
CRUD_RE = re.compile(r"^(view|add|change|delete)_(\w+)$")


def permission_key(permission):
    return f"{permission.content_type.app_label}.{permission.codename}"


def _product_permissions():
    return (Permission.objects.filter(content_type__app_label__in=list(APP_TITLES))
            .select_related("content_type").order_by("content_type__app_label", "content_type__model", "id"))


@dataclass
class MatrixCell:
    permission: Permission | None
    action_label: str
    checked: bool = False
    editable: bool = False


@dataclass
class MatrixRow:
    label: str
    cells: list


@dataclass
class MatrixExtra:
    permission: Permission
    label: str
    checked: bool = False
    editable: bool = False


@dataclass
class MatrixGroup:
    app_label: str
    title: str
    rows: list = field(default_factory=list)
    extras: list = field(default_factory=list)


def _is_crud(permission):
    match = CRUD_RE.match(permission.codename)
    return bool(match) and match.group(2) == permission.content_type.model


def permission_label(permission):
    key = permission_key(permission)
    if key in READ_ONLY_LABELS:
        return str(READ_ONLY_LABELS[key])
    model = permission.content_type.model_class()
    if _is_crud(permission) and model is not None:
        action = CRUD_RE.match(permission.codename).group(1)
        return gettext("%(model)s：%(action)s") % {"model": model._meta.verbose_name, "action": dict(ACTIONS)[action]}
    # Names of the models' own permissions (Meta.permissions) are catalogue entries too.
    return gettext(permission.name) if permission.name else permission.name


def offered_permissions():
    """Every permission the role form offers, in matrix order."""
    offered = []
    for group in permission_matrix():
        for row in group.rows:
            offered.extend(cell.permission for cell in row.cells if cell.permission is not None)
        offered.extend(extra.permission for extra in group.extras)
    return offered


def grantable_permission_ids(actor):
    """Offered permissions the actor may hand out: what they hold themselves."""
    if actor.is_superuser:
        return {p.pk for p in offered_permissions()}
    held = actor.get_all_permissions()
    return {p.pk for p in offered_permissions() if permission_key(p) in held}


def permission_matrix(checked_ids=(), editable_ids=()):
    """Groups by app: rows of models with 查看/新增/修改/删除 cells, then the app's extra permissions."""
    checked_ids, editable_ids = set(checked_ids), set(editable_ids)
    by_key = {permission_key(p): p for p in _product_permissions()}
    groups = []
    for app_label, title in APP_TITLES.items():
        group = MatrixGroup(app_label, title)
        crud_keys = set()
        for model_name in MATRIX_MODELS.get(app_label, []):
            cells = []
            for action, action_label in ACTIONS:
                key = f"{app_label}.{action}_{model_name}"
                crud_keys.add(key)
                permission = by_key.get(key) if key not in NOT_OFFERED else None
                cells.append(MatrixCell(permission, action_label,
                                        permission is not None and permission.pk in checked_ids,
                                        permission is not None and permission.pk in editable_ids))
            if any(cell.permission for cell in cells):
                model = next(c.permission for c in cells if c.permission).content_type.model_class()
                group.rows.append(MatrixRow(str(model._meta.verbose_name), cells))
        for key, permission in by_key.items():
            if not key.startswith(f"{app_label}.") or key in crud_keys or key in NOT_OFFERED:
                continue
            if _is_crud(permission) and key not in READ_ONLY_LABELS:
                continue
            group.extras.append(MatrixExtra(permission, permission_label(permission),
                                            permission.pk in checked_ids, permission.pk in editable_ids))
        read_only = list(READ_ONLY_LABELS)
        group.extras.sort(key=lambda e: read_only.index(permission_key(e.permission))
                          if permission_key(e.permission) in read_only else -1)
        if group.rows or group.extras:
            groups.append(group)
    return groups


def role_list_queryset(user):
    return Role.objects.restrict(user, "view").annotate(
        staff_count=Count("users", distinct=True), permission_count=Count("permissions", distinct=True))


def roles_for_company(company_id):
    return Role.objects.filter(company_id=company_id).prefetch_related("permissions__content_type")


def assignable_projects(actor, company_id=None):
    """Projects the actor may put into someone's scope: their own, within the given company."""
    projects = Project.objects.filter(pk__in=actor.permitted_project_ids())
    if company_id is not None:
        projects = projects.filter(company_id=company_id)
    return projects.select_related("company").order_by("company_id", "code")


def exceeding_permissions(actor, permissions):
    """Names of permissions the actor would hand out without holding them."""
    if actor.is_superuser:
        return []
    held = actor.get_all_permissions()
    return sorted({permission_label(p) for p in permissions if permission_key(p) not in held})


def may_manage(actor, staff):
    """Whether the actor may edit this colleague: never one with a wider scope or more permissions."""
    if actor.is_superuser:
        return True
    if staff.is_superuser or staff.company_id != actor.company_id:
        return False
    if staff.scope_all_projects and not actor.scope_all_projects:
        return False
    return staff.get_all_permissions() <= actor.get_all_permissions()


def staff_relations(staff):
    """Roles and projects as the change log shows them (they are not columns of the user row)."""
    if staff.pk is None:
        return {"roles": [], "projects": []}
    return {"roles": sorted(r.name for r in staff.roles.all()),
            "projects": sorted(p.name for p in staff.projects.all())}


def role_relations(role):
    if role.pk is None:
        return {"permissions": []}
    permissions = role.permissions.select_related("content_type")
    # The change log keeps the labels in the source language, whatever the editor's language.
    with translation.override(None):
        return {"permissions": sorted(permission_label(p) for p in permissions)}


@dataclass
class LockState:
    failures: int
    locked: bool
    last_attempt: datetime.datetime | None


def staff_lock_state(username):
    """Recent failed logins of a user name (from any address) and whether a lock-out is in force."""
    from axes.models import AccessAttempt

    cool_off = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=timezone.now() - cool_off)
    failures = max((a.failures_since_start for a in attempts), default=0)
    last = max((a.attempt_time for a in attempts), default=None)
    return LockState(failures=failures, locked=failures >= settings.AXES_FAILURE_LIMIT, last_attempt=last)


def visible_staff(user):
    return User.objects.restrict(user, "view")
