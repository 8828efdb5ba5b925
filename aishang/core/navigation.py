"""The back office's menu: every capability of the product has its place here.

Entries whose capability is not built yet are shown greyed out, so the shell already has
the shape users will work in.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str | None
    icon: str
    permission: str | None = None


NAVIGATION = [
    (_("资源管理"), [
        NavItem(pgettext_lazy("plural", "项目"), "estate:project_list", "buildings", "estate.view_project"),
        NavItem(pgettext_lazy("plural", "楼栋"), "estate:building_list", "building", "estate.view_building"),
        NavItem(pgettext_lazy("plural", "房屋"), "estate:unit_list", "house-door", "estate.view_unit"),
        NavItem(pgettext_lazy("plural", "车位"), "estate:parkingspace_list", "p-square", "estate.view_parkingspace"),
        NavItem(pgettext_lazy("plural", "业态"), "estate:propertytype_list", "grid", "estate.view_propertytype"),
    ]),
    (_("客户管理"), [
        NavItem(pgettext_lazy("plural", "客户"), "customers:customer_list", "people", "customers.view_customer"),
        NavItem(pgettext_lazy("plural", "车辆"), "customers:vehicle_list", "car-front", "customers.view_vehicle"),
    ]),
    (_("收费管理"), [
        NavItem(_("收银台"), "billing:desk", "cash-coin", "billing.add_payment"),
        NavItem(_("日结"), "billing:shift_open", "journal-check", "billing.add_shiftclose"),
        NavItem(_("押金台账"), "billing:deposit_list", "safe", "billing.view_deposit"),
        NavItem(_("收费项目"), "billing:feeitem_list", "tags", "billing.view_feeitem"),
        NavItem(_("收费标准"), "billing:chargerule_list", "sliders", "billing.view_chargerule"),
        NavItem(_("优惠方案"), "billing:discountscheme_list", "percent", "billing.view_discountscheme"),
        NavItem(_("出账"), "billing:billrun_list", "calendar-check", "billing.view_billrun"),
        NavItem(_("账单"), "billing:bill_list", "receipt", "billing.view_bill"),
        NavItem(_("审批"), "billing:approval_inbox", "check2-square", None),
        NavItem(_("审批流程设置"), "billing:approvalflow_list", "diagram-3", "billing.view_approvalflow"),
        NavItem(_("收据模板"), "billing:receipttemplate_list", "printer", "billing.view_receipttemplate"),
        NavItem(_("仪表"), "meters:meter_list", "speedometer2", "meters.view_meter"),
        NavItem(_("抄表录入"), "meters:reading_entry", "pencil-square", "meters.add_meterreading"),
        NavItem(_("抄表导入"), "meters:reading_import", "upload", "meters.add_meterreading"),
        NavItem(_("抄表记录"), "meters:meterreading_list", "card-list", "meters.view_meterreading"),
        NavItem(_("公摊分摊"), "meters:allocationrun_list", "pie-chart", "meters.view_allocationrun"),
        NavItem(_("线上支付订单"), "payments:paymentorder_list", "phone", "payments.view_paymentorder"),
        NavItem(_("统计台账"), "billing:report_index", "journal-text", "billing.view_bill"),
    ]),
    (_("客服工单"), [NavItem(_("报事报修"), None, "tools"), NavItem(_("投诉建议"), None, "chat-left-text")]),
    (_("运营"), [
        NavItem(_("仓库"), None, "box-seam"),
        NavItem(_("设备"), None, "gear"),
        NavItem(_("安防巡更"), None, "shield-check"),
    ]),
    (_("系统设置"), [
        NavItem(_("员工"), "users:user_list", "person-badge", "users.view_user"),
        NavItem(pgettext_lazy("plural", "角色"), "users:role_list", "person-lock", "users.view_role"),
        NavItem(_("自定义字段"), "extras:customfield_list", "ui-checks", "extras.view_customfield"),
        NavItem(_("变更记录"), "extras:objectchange_list", "clock-history", "extras.view_objectchange"),
        NavItem(_("审计日志"), "extras:auditevent_list", "shield-lock", "extras.view_auditevent"),
        NavItem(_("消息记录"), "notifications:message_list", "send", "notifications.view_message"),
        NavItem(_("消息模板"), "notifications:messagetemplate_list", "chat-square-text",
                "notifications.view_messagetemplate"),
        NavItem(_("支付设置"), "payments:settings", "credit-card", "payments.view_gatewayconfig"),
        NavItem(_("站内信"), "notifications:inbox", "bell", None),
        NavItem(_("后台任务"), "extras:job_list", "hourglass-split", None),
    ]),
]


def sidebar_html(user, current_path):
    """The menu as HTML, with the entries this user may open and the current one marked.

    It depends only on what the user may do, the language and the current entry, so it is drawn once for each
    such combination and kept for the life of the process: forty entries drawn on every page were a tenth of a
    simple page's time.
    """
    script_prefix = get_script_prefix()
    active = tuple(url for url in _urls(script_prefix).values() if url and current_path.startswith(url))
    grants = SUPERUSER if user.is_superuser else frozenset(user.get_all_permissions())
    return _sidebar(grants, translation.get_language(), script_prefix, active)


SUPERUSER = "superuser"


@lru_cache(maxsize=512)
def _sidebar(grants, language, script_prefix, active):
    urls = _urls(script_prefix)
    sections = []
    for title, items in NAVIGATION:
        entries = [{"label": item.label, "url": urls.get(item.url_name), "icon": item.icon,
                    "active": urls.get(item.url_name) in active}
                   for item in items if not item.permission or grants == SUPERUSER or item.permission in grants]
        if entries:
            sections.append({"title": title, "items": entries})
    return render_to_string("includes/sidebar.html", {"nav_sections": sections})


@lru_cache(maxsize=8)
def _urls(script_prefix):
    """{url name: path} of the menu's entries (None for one whose page does not exist yet)."""
    urls = {}
    for _title, items in NAVIGATION:
        for item in items:
            if item.url_name:
                try:
                    urls[item.url_name] = reverse(item.url_name)
                except NoReverseMatch:
                    urls[item.url_name] = None
    return urls
