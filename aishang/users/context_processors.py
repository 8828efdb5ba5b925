from .access import user_access


def access(request):
    """The signed-in user's company and role names for the top bar, from the cached ``Access``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"access": user_access(user)}
