from django.apps import AppConfig


class EstateConfig(AppConfig):
    name = "aishang.estate"
    label = "estate"
    verbose_name = "资源管理"
