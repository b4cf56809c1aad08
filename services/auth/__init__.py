"""Identity of HTTP callers: Entra ID tokens, development tokens, API keys, and the local
operator. Free of any web framework: `api/` turns request headers into a call here."""
