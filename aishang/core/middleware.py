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


class LanguageMiddleware:
    """Chinese unless the user chose another language; the browser's own language is not asked.

    Staff share counter PCs whose browsers are often set to English; the product must still
    open in Chinese for them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class SessionRenewalMiddleware:
    """Renew the session (and so its two-hour idle timeout) at most once a minute, not on every request.

    Saving the session on every request writes a row per page view; at a busy desk that write is most of
    what the database does for a page. An idle timeout a minute longer than two hours changes nothing for
    the user.
    """

    KEY = "_renewed_at"
    EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.EVERY_SECONDS:
                session[self.KEY] = now
        return self.get_response(request)
