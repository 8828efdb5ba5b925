from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
JOBS_RUN_INLINE = True
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
AXES_ENABLED = True
PAYMENTS_SANDBOX = True
PAYMENTS_SANDBOX_RETRY_DELAYS = [0, 0.05, 0.1]
