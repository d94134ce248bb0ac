"""Settings of the conformance project: the database comes from MAINT_DJANGO_DATABASE_URL, the refresh token
lifespan from MAINT_DJANGO_REFRESH_TOKEN_EXPIRE_SECONDS (unset: None, django-oauth-toolkit's default), USE_TZ from
MAINT_DJANGO_USE_TZ ("false" turns it off; default on) and TIME_ZONE from MAINT_DJANGO_TIME_ZONE (default UTC)."""
import os
from urllib.parse import unquote, urlparse

_url = urlparse(os.environ["MAINT_DJANGO_DATABASE_URL"])
_lifespan = os.environ.get("MAINT_DJANGO_REFRESH_TOKEN_EXPIRE_SECONDS")

SECRET_KEY = "conformance-test-only"
DEBUG = False
USE_TZ = os.environ.get("MAINT_DJANGO_USE_TZ", "true") != "false"
TIME_ZONE = os.environ.get("MAINT_DJANGO_TIME_ZONE", "UTC")
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "oauth2_provider",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(_url.path.lstrip("/")),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }
}
OAUTH2_PROVIDER = {
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(_lifespan) if _lifespan else None,
    # Clear in one go: the test compares what is left, not how it got there.
    "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0,
}
