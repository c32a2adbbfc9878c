"""The production settings (DEBUG off) with what an in-process benchmark needs: the test
client's host, plain HTTP, plain static storage (no collectstatic), and a throwaway
secret when none is set."""

import os
import warnings

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-for-serving-0123456789abcdef")

from crm.settings import *  # noqa: F403

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# WhiteNoise warns that STATIC_ROOT does not exist: the benchmark never collects static files.
warnings.filterwarnings("ignore", message="No directory at")
