"""The pages' templates: Jinja2 with auto-escaping, and the catalogue's words in them.

Every value a template prints is escaped unless it is marked safe, so a name or a note with
markup in it shows as text. Templates print words by message id only (``t('nav.log')``, or
``term('reason', code)`` for a stored code); the catalogue is :mod:`edge.console.messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from edge.console import messages
from edge.console.catalogue import Catalogue

TEMPLATE_DIR = Path(__file__).parent / "templates"
SHARED = TEMPLATE_DIR
"""Where ``shared/_layout.html`` is found: the head and scripts both consoles' layouts use."""


def environment(template_dir: Path, book: Catalogue) -> Environment:
    """Templates from ``template_dir``, every value escaped, printing ``book``'s words:
    ``t(message_id, **params)`` and ``term(section, code)`` in the page's ``lang``."""

    @pass_context
    def t(context: Context, message_id: str, **params: object) -> str:
        return book.text(context["lang"], message_id, **params)

    @pass_context
    def term(context: Context, section: str, code: str | None) -> str:
        return book.term(section, code, context["lang"])

    env = Environment(
        # A page's own templates first; "shared/…" the partials both consoles' layouts use.
        loader=ChoiceLoader(
            [FileSystemLoader(template_dir), PrefixLoader({"shared": FileSystemLoader(SHARED)})]
        ),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,  # a misspelt value fails the page (and its test), not blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=t, term=term)
    return env


def layout_page(
    templates: Jinja2Templates,
    request: Request,
    template: str,
    values: Mapping[str, Any],
    *,
    lang: str,
    back_to: str,
    status_code: int,
) -> HTMLResponse:
    """``template`` with ``values`` and what every page's layout reads besides: its ``lang``
    and the link to the other language, which comes back to ``back_to``. Never cached: a page
    shows who is signed in."""
    other = "zh" if lang == "en" else "en"
    return templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "switch_href": f"/lang/{other}?{urlencode({'next': back_to})}", **values},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@pass_context
def _detail(context: Context, as_written: str | None) -> str:
    return messages.detail(as_written, context["lang"])


def _environment() -> Environment:
    env = environment(TEMPLATE_DIR, messages.BOOK)
    env.globals.update(detail=_detail, words=messages.words, script_messages=messages.for_script)
    return env


templates = Jinja2Templates(env=_environment())
