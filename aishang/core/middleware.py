import uuid

from .context import change_context


class ChangeContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4()
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        source = "api" if request.path.startswith("/api/") else "web"
        with change_context(actor=actor, source=source, request_id=request.id,
                            remote_addr=request.META.get("REMOTE_ADDR", "")):
            response = self.get_response(request)
        response["X-Request-ID"] = str(request.id)
        return response
