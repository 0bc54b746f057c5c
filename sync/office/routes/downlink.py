"""The downlink page: per community, the last version of each signed document sent, which gate
applied which (stale ones marked), sending the revocation list again, and (admins) the keys
document of a key rotation; the same versions as JSON under /api/v1."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from edge import keys as key_files
from sync.contract import DownlinkKind
from sync.office import downlink, passes
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.messages import text
from sync.office.page import AdminPageDep, Community, PageRequest, PlainPageDep, RosterPageDep
from sync.office.routes.households import Notice
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["downlink"])

_KID_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _key_folder(context: OfficeContext) -> list[tuple[str, str]]:
    """(key id, fingerprint) of every public key in ``[office] key_dir``."""
    key_dir = context.office.key_dir
    if key_dir is None:
        return []
    try:
        loaded = key_files.load_public_dir(key_dir)
    except (OSError, ValueError):
        return []
    return [(kid, key_files.fingerprint(key)) for kid, key in sorted(loaded.items())]


def downlink_page(
    asked: PageRequest,
    *,
    notices: list[Notice] | None = None,
    confirm_keys: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    scope, context = asked.scope, asked.context
    now = context.now()
    found = downlink.gate_versions(context.db, scope)
    pending = {
        entry.community: (
            passes.revocations_pending(context.db, entry.community, now=now),
            passes.undelivered(context.db, entry.community, DownlinkKind.REVOCATIONS),
        )
        for entry in found
    }
    return asked.page(
        "downlink.html",
        "downlink.title",
        "/downlink",
        status_code=status_code,
        communities=found,
        pending=pending,
        kinds=downlink.KINDS,
        notices=notices or [],
        key_folder=_key_folder(context) if asked.officer.is_admin else [],
        key_dir_set=context.office.key_dir is not None,
        confirm_keys=confirm_keys,
    )


@pages.get("/downlink", response_class=HTMLResponse)
def downlink_view(asked: RosterPageDep) -> HTMLResponse:
    return downlink_page(asked)


@pages.post("/downlink/revocations", response_class=HTMLResponse)
async def republish(asked: PlainPageDep) -> HTMLResponse:
    """Send the community's full revocation list again, as its next version."""
    lang, context, officer = asked.lang, asked.context, asked.officer
    community = (await asked.community_form())[0].community
    published = passes.publish_revocations(
        context.db, context.downlink(), community=community, officer=officer, now=context.now()
    )
    if published.document is None:
        notice = ("bad", text(lang, "passes.not_published", reason=published.error or ""))
        return downlink_page(asked, notices=[notice], status_code=502)
    notice = ("good", text(lang, "passes.published", version=published.document.version))
    return downlink_page(asked, notices=[notice])


@pages.post("/downlink/keys", response_class=HTMLResponse)
async def publish_keys(asked: AdminPageDep) -> HTMLResponse:
    """Key rotation: the folder's pass keys trusted, the ids given revoked (admins only)."""
    lang, context, admin = asked.lang, asked.context, asked.officer
    posted, fields = await asked.community_form()
    community = posted.community
    key_dir = context.office.key_dir
    if key_dir is None:
        notice = ("bad", text(lang, "downlink.no_key_dir"))
        return downlink_page(asked, notices=[notice], status_code=409)
    revoke = [kid for kid in _KID_SEPARATORS.split(fields.get("revoke", "")) if kid]
    try:
        body = passes.keys_body(key_dir, revoke=revoke, signing_kid=context.office.signing_kid)
    except ValueError as exc:
        notice = ("bad", text(lang, "passes.bad_request", reason=str(exc)))
        return downlink_page(asked, notices=[notice], status_code=400)
    if fields.get("confirm") != "yes":
        question = text(
            lang,
            "downlink.confirm_keys",
            n=len(body.keys),
            revoked=", ".join(body.revoked) or text(lang, "common.none"),
        )
        confirm = {"question": question, "community": community, "revoke": " ".join(revoke)}
        return downlink_page(asked, confirm_keys=confirm)
    published = passes.publish_keys(
        context.db,
        context.downlink(),
        community=community,
        key_dir=key_dir,
        revoke=revoke,
        signing_kid=context.office.signing_kid,
        officer=admin,
        now=context.now(),
    )
    if published.document is None:
        notice = ("bad", text(lang, "passes.not_published", reason=published.error or ""))
        return downlink_page(asked, notices=[notice], status_code=502)
    notice = ("good", text(lang, "downlink.keys_sent", version=published.document.version))
    return downlink_page(asked, notices=[notice])


# ----------------------------------------------------------------------------------- API


class AppliedView(BaseModel):
    version: int | None
    reported: bool
    stale: bool


class GateView(BaseModel):
    gate: str
    online: bool
    at: datetime | None
    applied: dict[str, AppliedView]


class CommunityView(BaseModel):
    community: str
    published: dict[str, int]
    gates: list[GateView]


@api.get("/downlink")
def downlink_api(
    context: ContextDep, officer: OfficerDep, community: Community = None
) -> list[CommunityView]:
    """Per community: the last version sent of each kind, and each gate's applied versions."""
    return [
        CommunityView(
            community=entry.community,
            published={kind.value: version for kind, (version, _) in entry.published.items()},
            gates=[
                GateView(
                    gate=gate.gate,
                    online=gate.online,
                    at=gate.at,
                    applied={
                        kind.value: AppliedView(
                            version=applied.version, reported=applied.reported, stale=applied.stale
                        )
                        for kind, applied in gate.applied.items()
                    },
                )
                for gate in entry.gates
            ],
        )
        for entry in downlink.gate_versions(context.db, officer.scope(community))
    ]
