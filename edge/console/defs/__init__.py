"""Request and response bodies of the console's newer routes, one module each (exact OpenAPI)."""
