from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "aishang.users"
    label = "users"
    verbose_name = _("员工与权限")

    def ready(self):
        from aishang.estate.signals import company_created

        from .access import connect_signals
        from .services import install_company_roles

        company_created.connect(install_company_roles, dispatch_uid="users.install_company_roles")
        connect_signals()
