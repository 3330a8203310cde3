"""Django settings of the test authorization server (django-oauth-toolkit).

Built by `configure()` from the command line of `auth_server.py`: a sqlite database in a temp
dir, DOT with authorization code + PKCE, rotated refresh tokens, client credentials,
introspection, revocation, RFC 8414 metadata and open RFC 7591 registration, and access
tokens that live `access_ttl` seconds.
"""

import secrets

from django.conf import settings

SCOPES = {"mcp:read": "Read through MCP", "mcp:write": "Write through MCP"}


def configure(database_path: str, access_ttl: int) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF="dotpeer.urls",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            "dotpeer.views.CountingMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "dotpeer.views.TestUserMiddleware",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": database_path,
                "OPTIONS": {"timeout": 30},
            }
        },
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler"}},
            "root": {"handlers": ["stderr"], "level": "WARNING"},
        },
        OAUTH2_PROVIDER={
            "SCOPES": SCOPES,
            "DEFAULT_SCOPES": ["__all__"],
            "ACCESS_TOKEN_EXPIRE_SECONDS": access_ttl,
            "ROTATE_REFRESH_TOKEN": True,
            "PKCE_REQUIRED": True,
            # Loopback redirect URIs over plain http, as native clients use.
            "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
            "ALLOWED_SCHEMES": ["http", "https"],
            "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
            "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
            "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
            "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
            "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "OAUTH2_GRANT_TYPES_SUPPORTED": [
                "authorization_code",
                "client_credentials",
                "refresh_token",
            ],
            "DCR_ENABLED": True,
            "DCR_REGISTRATION_PERMISSION_CLASSES": (
                "oauth2_provider.dcr.AllowAllDCRPermission",
            ),
        },
    )
