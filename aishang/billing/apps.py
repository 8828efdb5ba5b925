from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "aishang.billing"
    label = "billing"
    verbose_name = _("收费管理")

    def ready(self):
        from aishang.core.generic_views import DetailTab, register_detail_tab
        from aishang.estate.models import Unit
        from aishang.estate.signals import company_created

        from . import imports, jobs, reports  # noqa: F401  register the bill run, bill import and 催缴 job runners
        from .approvals import install_company_flows
        from .receipts import install_company_receipt_template
        from .views import unit_charges_tab

        company_created.connect(install_company_flows, dispatch_uid="billing.install_company_flows")
        company_created.connect(install_company_receipt_template, dispatch_uid="billing.install_receipt_template")
        register_detail_tab(Unit, DetailTab("charges", _("收费"), "billing.view_bill", "billing/_unit_charges.html",
                                            unit_charges_tab))
