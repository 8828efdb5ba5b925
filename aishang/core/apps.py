from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aishang.core"
    label = "core"
    verbose_name = "基础"
