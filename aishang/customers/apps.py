from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "aishang.customers"
    label = "customers"
    verbose_name = _("客户管理")

    def ready(self):
        from . import imports  # noqa: F401  registers the unit import job runner
