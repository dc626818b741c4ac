"""The desk over the Model Context Protocol: `quantdesk mcp` (stdio or streamable HTTP) and
the HTTP app's `/mcp/` endpoint."""
