"""``/favicon.ico``: browsers and bookmarks ask for it at the root whatever the page links."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from edge.console.templating import TEMPLATE_DIR

router = APIRouter(include_in_schema=False)
ICON = TEMPLATE_DIR.parent / "static" / "favicon.ico"  # the pages link favicon.svg beside it


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(ICON, media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"})
