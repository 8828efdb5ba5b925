from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetersConfig(AppConfig):
    name = "aishang.meters"
    label = "meters"
    verbose_name = _("水电抄表")

    def ready(self):
        from aishang.billing.services import register_usage_source

        from .usage import metered_usage

        register_usage_source(metered_usage)
