"""The office's pages: Jinja2 templates with auto-escaping, the catalogue's words, the layout.

``render`` puts a template in the layout (``base.html``: the navigation, who is signed in, the
language switch) and answers ``Cache-Control: no-store``: pages hold people's data. ``PageRoute``
makes a page's bad query a page saying so, never FastAPI's JSON. Times are shown in the office's
zone by the ``local`` filter.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from sync.office import messages
from sync.office.accounts import Officer
from sync.office.context import get_context

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANG_COOKIE = "kakou_office_lang"

NAV: tuple[tuple[str, str, bool], ...] = (
    ("/", "nav.gates", False),
    ("/alerts", "nav.alerts", False),
    ("/gaps", "nav.gaps", False),
    ("/households", "nav.households", False),
    ("/passes", "nav.passes", False),
    ("/downlink", "nav.downlink", False),
    ("/reports", "nav.reports", False),
    ("/fever", "nav.fever", False),
    ("/register", "nav.register", False),
    ("/notice", "nav.notice", False),
    ("/accounts", "nav.accounts", True),
    ("/audit", "nav.audit", True),
)
"""(path, message id, admins only): the navigation every page shows, in this order."""


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


@pass_context
def _t(context: Context, message_id: str, **params: object) -> str:
    return messages.text(context["lang"], message_id, **params)


@pass_context
def _term(context: Context, section: str, code: str | None) -> str:
    return messages.term(section, code, context["lang"])


@pass_context
def _ago(context: Context, moment: datetime | None) -> str:
    """How long ago ``moment`` was, from the page's ``now``, in words; "never" for none."""
    if moment is None:
        return messages.text(context["lang"], "common.never")
    seconds = max(0, int((context["now"] - moment).total_seconds()))
    for limit, unit, message_id in (
        (120, 1, "common.s_ago"),
        (7200, 60, "common.min_ago"),
        (172_800, 3600, "common.h_ago"),
    ):
        if seconds < limit:
            return messages.text(context["lang"], message_id, n=seconds // unit)
    return messages.text(context["lang"], "common.d_ago", n=seconds // 86_400)


def _seconds(count: float) -> timedelta:
    return timedelta(seconds=count)


@pass_context
def _local(context: Context, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time in the office's zone; "" for none."""
    if moment is None:
        return ""
    return moment.astimezone(context["zone"]).strftime(fmt)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,  # a misspelt value fails the page (and its test), not blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=_t, term=_term, nav=NAV, ago=_ago, timedelta_s=_seconds)
    env.filters["local"] = _local
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    title: str,
    *,
    officer: Officer | None = None,
    current: str = "",
    status_code: int = 200,
    assets: tuple[str, ...] = (),
    **values: Any,
) -> HTMLResponse:
    """``template`` in the layout; ``title`` is a message id, ``current`` the nav path lit,
    ``assets`` extra files under /static (``.css`` and ``.js``) the page needs."""
    lang = lang_of(request)
    other = "zh" if lang == "en" else "en"
    context = get_context(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "title": title,
            "officer": officer,
            "current": current,
            "assets": assets,
            "zone": context.zone,
            "now": context.now(),
            "switch_href": f"/lang/{other}?{urlencode({'next': local_path(here)})}",
            **values,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def local_path(next: str | None) -> str:
    """``next`` if it is a path on this console, else ``/``: never an address elsewhere
    (``//evil`` and ``/\\evil`` name another host; browsers drop tabs and line breaks)."""
    if not next or not next.startswith("/") or next.startswith("//"):
        return "/"
    if "\\" in next or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in next):
        return "/"
    parts = urlsplit(next)
    return "/" if parts.scheme or parts.netloc else next


def bad_request_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "message.html",
        "page.bad_request",
        text_id="page.bad_request_text",
        status_code=400,
    )


class PageRoute(APIRoute):
    """A page's route: a query it cannot take gets a page saying so (400), never FastAPI's
    JSON 422 (officers read pages; the API under /api/v1 keeps its JSON errors)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                return bad_request_page(request)

        return page_handler
