"""Settings of the conformance project: the database comes from MAINT_DJANGO_DATABASE_URL, the refresh token
lifespan from MAINT_DJANGO_REFRESH_TOKEN_EXPIRE_SECONDS (unset: None, django-oauth-toolkit's default)."""
import os
from urllib.parse import unquote, urlparse

_url = urlparse(os.environ["MAINT_DJANGO_DATABASE_URL"])
_lifespan = os.environ.get("MAINT_DJANGO_REFRESH_TOKEN_EXPIRE_SECONDS")

SECRET_KEY = "conformance-test-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
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
