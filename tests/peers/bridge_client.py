"""A tiny agent for `latch bridge`: the Python MCP SDK's stdio client spawns
`LATCH bridge NAME`, lists the tools and calls get-sum(2, 3), then prints one JSON line.

Usage: python bridge_client.py LATCH NAME   (LATCH_HOME / LATCH_TOKEN_STORE from the environment)
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(latch: str, name: str) -> None:
    params = StdioServerParameters(command=latch, args=["bridge", name], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            result = await session.call_tool("get-sum", {"a": 2, "b": 3})
            text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
            print(
                json.dumps(
                    {
                        "serverName": init.serverInfo.name,
                        "tools": sorted(t.name for t in tools.tools),
                        "sum": text,
                        "isError": bool(result.isError),
                    }
                )
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
