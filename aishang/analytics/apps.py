from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "aishang.analytics"
    label = "analytics"
    verbose_name = "统计分析"
