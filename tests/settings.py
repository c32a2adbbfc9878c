"""The production settings with what a test run needs: no HTTPS redirect (the test
client speaks plain HTTP), plain static storage (no collectstatic), fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-only-for-the-test-run-0123456789-abcdefghijklmnop")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from crm.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"  # noqa: F405
# Celery stays inline here; the one test of a real worker points it at Redis itself.
CELERY_BROKER_URL = None
CELERY_TASK_ALWAYS_EAGER = True
# Static files are served from the app directories in tests; there is no collectstatic.
WHITENOISE_AUTOREFRESH = True
# Threads the tests start (the Celery worker, the live server) close their connections
# after each task or request, so the test database can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
