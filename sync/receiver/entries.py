"""The receiver's check of one entry of a batch.

The office reads entry documents by the contract the gate writes them with,
``edge.entry_document``, and by nothing else of the gate: not its store, not a copy of the rules.
``check_document`` checks a document against that contract without building the ``Entry`` the
receiver does not need (bench/bench_sync.py, section "check", measures it).
"""

from __future__ import annotations

from edge.entry_document import check_document
from sync.receiver.db import IncomingEntry


def check_entry(document: object) -> IncomingEntry | str:
    """The columns and canonical text of a valid entry document, or why it is refused.

    Never raises on bad input: the reason names the field, as ``entry_from_document``'s does.
    """
    return check_document(document)
