from django.contrib.auth.models import AbstractUser, Permission, UserManager
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aishang.core.querysets import RestrictedQuerySet
from aishang.estate.models import Company, Project
from aishang.extras.features import ChangeLoggedModel


class StaffQuerySet(RestrictedQuerySet):
    def within_scope(self, user):
        if user.is_superuser:
            return self
        if not user.company_id:
            return self.none()
        staff = self.filter(company_id=user.company_id)
        if user.scope_all_projects:
            return staff
        # A project-scoped manager sees colleagues who work on one of the same projects.
        return staff.filter(models.Q(projects__in=user.permitted_project_ids()) | models.Q(pk=user.pk)).distinct()


class StaffManager(UserManager.from_queryset(StaffQuerySet)):
    pass


class Role(ChangeLoggedModel, models.Model):
    """A set of permissions a company gives its staff: 管理员, 财务, 收银员 ... or its own."""

    scope_company_path = "company"

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="roles")
    code = models.SlugField(_("角色编码"), max_length=40)
    name = models.CharField(_("角色名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    is_system = models.BooleanField(_("系统内置"), default=False)
    permissions = models.ManyToManyField(Permission, verbose_name=_("权限"), blank=True, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = pgettext_lazy("plural", "角色")
        ordering = ["company", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="role_unique_code")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("users:role_detail", kwargs={"pk": self.pk})

    def get_scope_ids(self):
        return self.company_id, None


class User(ChangeLoggedModel, AbstractUser):
    """A staff member. ``is_superuser`` is the deployment operator, above every company."""

    change_log_exclude = ("password", "last_login", "date_joined")

    company = models.ForeignKey(Company, verbose_name=_("企业"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="staff")
    display_name = models.CharField(_("姓名"), max_length=30, blank=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")
    scope_all_projects = models.BooleanField(_("全部项目"), default=False,
                                             help_text=_("勾选后可访问企业的全部项目，否则仅限下方所选项目"))
    projects = models.ManyToManyField(Project, verbose_name=_("负责项目"), blank=True, related_name="staff")

    objects = StaffManager()

    class Meta:
        verbose_name = verbose_name_plural = _("员工")
        ordering = ["id"]

    def __str__(self):
        return self.display_name or self.username

    def get_absolute_url(self):
        return reverse("users:user_detail", kwargs={"pk": self.pk})

    def get_scope_ids(self):
        return self.company_id, None

    def permitted_project_ids(self):
        """Ids of the projects this user may reach."""
        from .access import user_access

        return list(user_access(self).project_ids)

    def permitted_projects(self):
        return Project.objects.filter(pk__in=self.permitted_project_ids())
