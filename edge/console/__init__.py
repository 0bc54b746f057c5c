"""The console: a FastAPI app serving the JSON API (/api/v1) the guard pages and tools use."""
