"""A file posted from a plain HTML form (``multipart/form-data``), read with the standard library.

The body is already capped by the app's ``BodyLimit``; the parts are taken apart by ``email``'s
MIME parser (RFC 7578 form data is MIME multipart), so no multipart library is needed. A body that
is not multipart form data, or holds no file, is a ``ValueError`` the page explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser

from fastapi import Request

from sync.office.forms import same_origin

MAX_PARTS = 20


@dataclass(frozen=True, slots=True)
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str = ""
    data: bytes = b""


def parse_multipart(content_type: str, body: bytes) -> Upload:
    """The text fields and the (first) file of a multipart form body."""
    if (
        not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        raise ValueError("not a file upload form")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise ValueError("not a file upload form")
    fields: dict[str, str] = {}
    filename = ""
    data = b""
    for number, part in enumerate(message.iter_parts()):
        if number >= MAX_PARTS:
            raise ValueError("too many parts")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        part_filename = part.get_filename()
        if part_filename is not None:
            if not filename:
                filename, data = part_filename, content
        else:
            fields[name] = content.decode("utf-8", errors="replace").strip()
    return Upload(fields=fields, filename=filename, data=data)


async def read_upload(request: Request) -> Upload:
    """The posted form with its file; 403 for a form from another site (``same_origin``)."""
    same_origin(request)
    return parse_multipart(request.headers.get("content-type", ""), await request.body())
