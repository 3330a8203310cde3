"""A protected MCP server on the Python `mcp` SDK (Streamable HTTP at `/mcp`) that checks bearer
tokens by RFC 7662 introspection at the test authorization server, like the SDK's
`examples/servers/simple-auth` resource server. `--metadata` publishes RFC 9728 protected-resource
metadata naming the authorization server (Notion-like); `--no-metadata` publishes none and its
401 names no `resource_metadata` (Madgicx-like). Prints one JSON line; see README.md."""

import argparse
import asyncio
import json
import os
import time

import httpx
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import FastMCP

from common import announce, exit_when_stdin_closes, listen


class IntrospectionTokenVerifier:
    """Asks the authorization server about every token (no cache: an expired or revoked token
    is refused at once)."""

    def __init__(self, endpoint: str, client_id: str, client_secret: str):
        self.endpoint = endpoint
        self.auth = (client_id, client_secret)
        self.client = httpx.AsyncClient(timeout=10.0)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            response = await self.client.post(
                self.endpoint, data={"token": token}, auth=self.auth
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        data = response.json()
        if not data.get("active"):
            return None
        return AccessToken(
            token=token,
            client_id=data.get("client_id", ""),
            scopes=data.get("scope", "").split(),
            expires_at=data.get("exp"),
        )


def build(args, port: int) -> FastMCP:
    url = f"http://127.0.0.1:{port}/mcp"
    verifier = IntrospectionTokenVerifier(
        args.introspection_url,
        os.environ["INTROSPECTION_CLIENT_ID"],
        os.environ["INTROSPECTION_CLIENT_SECRET"],
    )
    auth = AuthSettings(
        issuer_url=args.issuer,
        resource_server_url=url if args.metadata else None,
        validate_token_resource=False if args.metadata else None,
    )
    server = FastMCP(
        name=f"providers-peer-{'notion' if args.metadata else 'madgicx'}",
        host="127.0.0.1",
        port=port,
        token_verifier=verifier,
        auth=auth,
    )

    @server.tool()
    def whoami() -> str:
        """The client id and scopes of the token this request carried, as JSON."""
        token = get_access_token()
        return json.dumps(
            {
                "client_id": token.client_id if token else None,
                "scopes": token.scopes if token else [],
                "expires_at": token.expires_at if token else None,
                "now": int(time.time()),
            }
        )

    @server.tool()
    def echo(message: str) -> str:
        """Answers the message it was given."""
        return message

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issuer", required=True, help="the authorization server's URL")
    parser.add_argument("--introspection-url", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--metadata", dest="metadata", action="store_true")
    mode.add_argument("--no-metadata", dest="metadata", action="store_false")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    exit_when_stdin_closes()

    sock = listen(args.port)
    port = sock.getsockname()[1]
    app = build(args, port).streamable_http_app()
    announce({"mcpUrl": f"http://127.0.0.1:{port}/mcp", "metadata": args.metadata})
    config = uvicorn.Config(app, log_level="warning")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
