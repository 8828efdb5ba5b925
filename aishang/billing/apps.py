from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "aishang.billing"
    label = "billing"
    verbose_name = _("收费管理")

    def ready(self):
        from . import jobs  # noqa: F401  registers the bill run job runner
