"""What a staff member may do and see, read once and kept in the cache until something it depends on changes.

Every page asks for the user's permissions (two queries through their roles), the projects in their scope, and
the company and role names the top bar shows: five queries before the page's own work. They change rarely, so
they are kept in Django's cache (Redis in production, shared by every process) under the user's key, stamped with
a generation. A change to the user (their roles, projects, own permissions, scope) drops their key; a change to
roles, projects or companies moves the generation on for everyone. Both happen at once and again when the
transaction commits, so an entry written from the old rows before the commit is dropped. Entries also expire after
``TTL_SECONDS``: that bounds the two cases left, a request that read the old rows before the commit and writes its
entry after it, and a deployment running several processes with no shared cache.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "access:generation"
TTL_SECONDS = 300


@dataclass(frozen=True)
class Access:
    permissions: frozenset
    project_ids: tuple
    company_name: str
    role_names: tuple


def user_access(user):
    """The user's ``Access``, kept on the user object for the rest of the request."""
    if not hasattr(user, "_access"):
        user._access = _cached_access(user)
    return user._access


def _cached_access(user):
    key = _user_key(user.pk)
    cached = cache.get_many([GENERATION_KEY, key])
    generation = cached.get(GENERATION_KEY, 0)
    stamped = cached.get(key)
    if stamped is not None and stamped[0] == generation:
        return stamped[1]
    access = _read_access(user)
    cache.set(key, (generation, access), TTL_SECONDS)
    return access


def _read_access(user):
    from aishang.estate.models import Company, Project

    from .backends import RoleBackend

    if user.is_superuser:
        projects = Project.objects.all()
    elif not user.company_id:
        projects = Project.objects.none()
    elif user.scope_all_projects:
        projects = Project.objects.filter(company_id=user.company_id)
    else:
        projects = user.projects.filter(company_id=user.company_id)
    # A fresh copy (of the model, also behind request.user's lazy object), so that the backend's per-object
    # cache does not answer from this very user.
    fresh = user.__class__(pk=user.pk, is_active=user.is_active, is_superuser=user.is_superuser)
    company_name = Company.objects.filter(pk=user.company_id).values_list("name", flat=True).first() or ""
    return Access(permissions=frozenset(RoleBackend().read_all_permissions(fresh)),
                  project_ids=tuple(projects.values_list("pk", flat=True)), company_name=company_name,
                  role_names=tuple(user.roles.values_list("name", flat=True)))


def _user_key(user_id):
    return f"access:user:{user_id}"


def forget_user(user_id):
    """The user's own access changed (roles, projects, permissions, scope, activity)."""
    cache.delete(_user_key(user_id))
    transaction.on_commit(lambda: cache.delete(_user_key(user_id)))


def forget_everyone():
    """Roles, projects or companies changed: everyone's access is read again."""
    _next_generation()
    transaction.on_commit(_next_generation)


def _next_generation():
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.add(GENERATION_KEY, 1, None)


def _user_changed(sender, instance, **kwargs):
    forget_user(instance.pk)


def _user_relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:
        forget_user(instance.pk)
    elif pk_set:
        for user_id in pk_set:
            forget_user(user_id)
    else:  # cleared from the role's or project's side: whose access changed is no longer known
        forget_everyone()


def _everyone_changed(sender, **kwargs):
    forget_everyone()


def connect_signals():
    from django.contrib.auth.models import Permission
    from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

    from aishang.estate.models import Company, Project

    from .models import Role, User

    post_save.connect(_user_changed, sender=User, dispatch_uid="access.user_saved")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="access.user_deleted")
    for through in (User.roles.through, User.projects.through, User.user_permissions.through):
        m2m_changed.connect(_user_relations_changed, sender=through, dispatch_uid=f"access.{through.__name__}")
    for model in (Role, Project, Company, Permission):
        post_save.connect(_everyone_changed, sender=model, dispatch_uid=f"access.{model.__name__}_saved")
        post_delete.connect(_everyone_changed, sender=model, dispatch_uid=f"access.{model.__name__}_deleted")
    m2m_changed.connect(_everyone_changed, sender=Role.permissions.through, dispatch_uid="access.role_permissions")
    post_migrate.connect(_everyone_changed, dispatch_uid="access.migrated")
