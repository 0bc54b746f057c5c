"""Plain HTML forms, read without a multipart library: ``application/x-www-form-urlencoded``.

The office's forms post with the browser's own submit, so they work before (or without) any
script. The session cookie is SameSite=Strict, so another site's page cannot post as the
officer; ``same_origin`` refuses a post whose Origin names another site all the same (a
browser that ignores SameSite). The body is already capped by the app's ``BodyLimit``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException, Request

MAX_FIELDS = 200


def same_origin(request: Request) -> None:
    """403 for a post whose ``Origin`` (when the browser sends one) is another host."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise HTTPException(status_code=403, detail="a form from another site")


async def form_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every field (a multi-select, repeated checkboxes), stripped."""
    same_origin(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:  # more fields than any form has
        raise HTTPException(status_code=400, detail="too many form fields") from exc
    return {name: [value.strip() for value in values] for name, values in parsed.items()}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted fields (the first value of each), stripped of surrounding blanks."""
    return {name: values[0] for name, values in (await form_lists(request)).items() if values}
