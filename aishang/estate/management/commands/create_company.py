from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from aishang.core.context import change_context
from aishang.estate.models import Company
from aishang.estate.services import company_create
from aishang.users.services import staff_create


class Command(BaseCommand):
    help = "Create a property company with its standard property types and roles, and its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("name", help="企业名称")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--admin-name", default="管理员")

    def handle(self, *args, name, admin_username, admin_password, admin_name, **options):
        if Company.objects.filter(name=name).exists():
            raise CommandError(f"企业「{name}」已存在")
        try:
            with transaction.atomic(), change_context(source="command"):
                company = company_create(name=name)
                staff_create(company=company, username=admin_username, password=admin_password,
                             display_name=admin_name, roles=[company.roles.get(code="admin")],
                             scope_all_projects=True)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"已创建企业「{company.name}」，管理员账号 {admin_username}"))
