from django.apps import AppConfig


class ExtrasConfig(AppConfig):
    name = "aishang.extras"
    label = "extras"
    verbose_name = "扩展"

    def ready(self):
        from . import signals  # noqa: F401
