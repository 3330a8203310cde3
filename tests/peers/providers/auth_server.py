"""A test OAuth authorization server on django-oauth-toolkit (the `dotpeer` Django project),
served by uvicorn on 127.0.0.1. Prints one JSON line with its URLs and the introspection
client the MCP servers use; see README.md."""

import argparse
import asyncio
import os
import secrets
import tempfile

import uvicorn

from common import announce, exit_when_stdin_closes, listen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DOT_PORT", "0")))
    parser.add_argument(
        "--access-ttl",
        type=int,
        default=int(os.environ.get("DOT_ACCESS_TTL", "3600")),
        help="access-token lifetime in seconds",
    )
    args = parser.parse_args()
    exit_when_stdin_closes()

    data = tempfile.mkdtemp(prefix="latch-dot-peer-")
    from dotpeer.settings import configure

    configure(os.path.join(data, "db.sqlite3"), args.access_ttl)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    introspection_secret = secrets.token_urlsafe(24)
    introspector = Application.objects.create(
        name="mcp-resource-servers",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=introspection_secret,
        # Stored as is: Django's password hash costs ~0.3 s of CPU per check, and the MCP
        # servers introspect on every request.
        hash_client_secret=False,
    )

    from django.core.asgi import get_asgi_application

    sock = listen(args.port)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    announce(
        {
            "issuer": base,
            "tokenUrl": f"{base}/o/token/",
            "authorizationUrl": f"{base}/o/authorize/",
            "revocationUrl": f"{base}/o/revoke_token/",
            "introspectionUrl": f"{base}/o/introspect/",
            "registrationUrl": f"{base}/o/register/",
            "adminUrl": f"{base}/__test",
            "introspectionClientId": introspector.client_id,
            "introspectionClientSecret": introspection_secret,
        }
    )
    config = uvicorn.Config(get_asgi_application(), log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
