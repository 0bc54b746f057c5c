"""``/console.crt``: the console's own certificate, for a guard's phone to install and trust.

Open to anyone who may connect (``[console] allowed_clients``): a certificate is public, and the
guard compares its fingerprint with the one the installer printed before trusting it.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/console.crt")
def console_certificate(request: Request) -> Response:
    path = request.app.state.console_settings.tls_cert
    if path is None:
        raise HTTPException(404, "the console is not served over HTTPS")
    return Response(
        path.read_bytes(),
        media_type="application/x-x509-ca-cert",
        headers={"Content-Disposition": 'attachment; filename="kakou-console.crt"'},
    )
