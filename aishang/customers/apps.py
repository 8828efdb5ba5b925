from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "aishang.customers"
    label = "customers"
    verbose_name = "客户管理"

    def ready(self):
        from . import imports  # noqa: F401  registers the unit import job runner
