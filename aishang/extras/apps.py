from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExtrasConfig(AppConfig):
    name = "aishang.extras"
    label = "extras"
    verbose_name = _("扩展")

    def ready(self):
        from . import signals  # noqa: F401
