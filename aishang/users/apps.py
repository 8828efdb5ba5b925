from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "aishang.users"
    label = "users"
    verbose_name = "员工与权限"
