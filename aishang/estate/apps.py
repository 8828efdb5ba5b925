from django.apps import AppConfig


class EstateConfig(AppConfig):
    name = "aishang.estate"
    label = "estate"
    verbose_name = "资源管理"

    def ready(self):
        from . import imports  # noqa: F401  registers the unit import job runner
