"""Passes for tests: signed for real, valid by default from a day back to 30 days ahead, so a test
names only what it is about (the key, the pass id, the kind) and the clock never makes it flaky."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import passes
from edge.app.boot import ensure_sim_issuer
from edge.app.settings import Settings
from edge.model import PassKind


def signed_token(
    key: Ed25519PrivateKey,
    *,
    key_id: str,
    community: str,
    pass_id: str,
    kind: PassKind = PassKind.RESIDENT,
    holder: str = "王*明",
    unit: str = "3-2-501",
    valid_days: tuple[float, float] = (-1, 30),
    **claims: Any,
) -> str:
    """A pass signed by ``key``, valid between ``valid_days`` from now (issued at the start);
    ``claims`` are the optional ones (gates, plate, token_format). The contract is the one new
    passes get (``passes.DEFAULT_FORMAT``, KK2) unless ``token_format`` says otherwise."""
    now = datetime.now(UTC)
    return passes.issue(
        key,
        key_id=key_id,
        community=community,
        pass_id=pass_id,
        kind=kind,
        holder=holder,
        unit=unit,
        not_before=now + timedelta(days=valid_days[0]),
        expires=now + timedelta(days=valid_days[1]),
        issued_at=now + timedelta(days=valid_days[0]),
        **claims,
    )


def sim_token(
    settings: Settings, pass_id: str, kind: PassKind = PassKind.RESIDENT, **fields: Any
) -> str:
    """A pass signed by the simulated gate's own issuer key, which its lanes trust."""
    issuer = ensure_sim_issuer(settings)
    return signed_token(
        issuer.key,
        key_id=issuer.key_id,
        community=issuer.community,
        pass_id=pass_id,
        kind=kind,
        **fields,
    )
