"""What an office page route works with: the request, the signed-in officer, the office, and
the community the officer narrowed the page to; :meth:`PageRequest.page` answers with a
template in the layout for that officer.

Routes take it as ``asked: PageDep`` (any officer, ``?community=``), ``RosterPageDep`` (the
roster's pages, whose community is at most 32 characters), ``PlainPageDep`` (an officer's
page or form with no community filter: a form names its own) or ``AdminPageDep`` (admins'
pages and forms), so the prologue every page shares (who asks, which communities, how to render
for them) is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from sync.office.accounts import Officer
from sync.office.auth import AdminDep, OfficerDep
from sync.office.context import OfficeContext, get_context
from sync.office.forms import form_fields
from sync.office.templating import lang_of, render

Search = Annotated[str, Query(max_length=64)]
"""A roster page's search text."""
Community = Annotated[str | None, Query(max_length=32)]
"""A roster page's community filter."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One officer's request for a page, and the community they narrowed it to."""

    request: Request
    officer: Officer
    community: str = ""
    """The community chosen in the page's filter; "" for every one of the officer's."""

    def __post_init__(self) -> None:
        # A community that is not the officer's is refused (403) as the request is taken,
        # whatever the page then does with it: also a page that shows only its empty form.
        self.officer.scope(self.community or None)

    @property
    def context(self) -> OfficeContext:
        """The office: its database, settings and clock."""
        return get_context(self.request)

    @property
    def scope(self) -> list[str]:
        """The communities the page may read: the one chosen (403 when it is not the
        officer's), or every one of theirs."""
        return self.officer.scope(self.community or None)

    @property
    def lang(self) -> str:
        return lang_of(self.request)

    def within(self, community: str) -> PageRequest:
        """The same request narrowed to ``community`` (one a form posted)."""
        return replace(self, community=community)

    async def community_form(self) -> tuple[PageRequest, dict[str, str]]:
        """A posted form naming one of the officer's communities: this request narrowed to it,
        and the form's fields. 400 for a form without one, 403 for one not the officer's."""
        fields = await form_fields(self.request)
        community = fields.get("community", "")
        if not community:
            raise HTTPException(status_code=400, detail="community is required")
        self.officer.scope(community)
        return self.within(community), fields

    def page(
        self,
        template: str,
        title: str,
        current: str,
        *,
        status_code: int = 200,
        error: object = None,
        assets: tuple[str, ...] = (),
        **values: Any,
    ) -> HTMLResponse:
        """``template`` in the layout for this officer (``title`` a message id, ``current``
        the nav path lit), with the community filter's choice and choices unless ``values``
        say otherwise. ``error`` is what the page's form could not take (a message id or a
        ``FilterError``): the page says it, and the answer is 400."""
        return render(
            self.request,
            template,
            title,
            officer=self.officer,
            current=current,
            status_code=status_code if error is None else 400,
            assets=assets,
            **{
                "community": self.community,
                "communities": self.officer.scope(None),
                "error": error,
                **values,
            },
        )


def officer_page(request: Request, officer: OfficerDep, community: str = "") -> PageRequest:
    return PageRequest(request, officer, community)


def roster_page(request: Request, officer: OfficerDep, community: Community = None) -> PageRequest:
    return PageRequest(request, officer, community or "")


def plain_page(request: Request, officer: OfficerDep) -> PageRequest:
    return PageRequest(request, officer)


def admin_page(request: Request, admin: AdminDep) -> PageRequest:
    return PageRequest(request, admin)


PageDep = Annotated[PageRequest, Depends(officer_page)]
RosterPageDep = Annotated[PageRequest, Depends(roster_page)]
PlainPageDep = Annotated[PageRequest, Depends(plain_page)]
AdminPageDep = Annotated[PageRequest, Depends(admin_page)]
