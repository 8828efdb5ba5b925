from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "aishang.customers"
    label = "customers"
    verbose_name = "客户管理"
