from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstateConfig(AppConfig):
    name = "aishang.estate"
    label = "estate"
    verbose_name = _("资源管理")
