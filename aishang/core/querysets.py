"""Querysets that start from what the actor may see.

Every scoped model names the path to its project (``scope_project_path``) or, for
company-wide objects, to its company (``scope_company_path``). ``restrict(user, action)``
keeps only rows in the user's scope *and* returns nothing without the model permission,
so an object outside either answers 404, never 403.
"""

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action="view"):
        model = self.model
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        permission = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        if action and not user.has_perm(permission):
            return self.none()
        return self.within_scope(user)

    def within_scope(self, user):
        model = self.model
        if user.is_superuser:
            return self
        project_path = getattr(model, "scope_project_path", None)
        company_path = getattr(model, "scope_company_path", None)
        if project_path is not None:
            projects = user.permitted_project_ids()
            lookup = f"{project_path}__in" if project_path else "pk__in"
            return self.filter(**{lookup: projects})
        if company_path is not None:
            if not user.company_id:
                return self.none()
            lookup = company_path or "pk"
            return self.filter(**{lookup: user.company_id})
        return self.none()


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
