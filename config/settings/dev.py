from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
PAYMENTS_SANDBOX = env_bool("PAYMENTS_SANDBOX", True)
