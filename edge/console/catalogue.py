"""A catalogue of words, Chinese first: message id → (Chinese, English), and its look-ups.

The gate console (:mod:`edge.console.messages`) and the office console
(``sync.office.messages``) each keep one; the office's falls back to the gate's, so a code the
gates store (an outcome, a reason, a pass kind) reads the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Words = tuple[str, str]
"""(Chinese, English)."""


def merged(*sections: Mapping[str, Words]) -> dict[str, Words]:
    """One table of ``sections``; an id given twice raises ``ValueError`` (at import: two
    sections cannot quietly clash)."""
    found: dict[str, Words] = {}
    for section in sections:
        twice = found.keys() & section.keys()
        if twice:
            raise ValueError(f"message ids given twice: {sorted(twice)}")
        found.update(section)
    return found


@dataclass(frozen=True)
class Catalogue:
    """``entries`` first, then ``fallback`` for an id they do not have."""

    entries: Mapping[str, Words]
    fallback: Catalogue | None = None

    def get(self, message_id: str) -> Words | None:
        found = self.entries.get(message_id)
        if found is None and self.fallback is not None:
            return self.fallback.get(message_id)
        return found

    def words(self, message_id: str) -> Words:
        """(Chinese, English) for ``message_id``; a ``KeyError`` names an id missing here."""
        found = self.get(message_id)
        if found is None:
            raise KeyError(message_id)
        return found

    def text(self, lang: str, message_id: str, **params: object) -> str:
        """The message in ``lang`` ("en", else Chinese), its ``{name}`` fields filled."""
        zh, en = self.words(message_id)
        chosen = en if lang == "en" else zh
        return chosen.format_map(params) if params else chosen

    def term(self, section: str, code: str | None, lang: str = "zh") -> str:
        """What a stored code means (``term("reason", "expired")``): the code itself if
        unknown, "" for none."""
        if code is None:
            return ""
        found = self.get(f"{section}.{code}")
        if found is None:
            return code
        return found[1] if lang == "en" else found[0]

    def table(self, section: str) -> dict[str, Words]:
        """One section's codes and their words (``entries`` only):
        ``table("outcome")["fever"] == ("发热", "Fever")``."""
        prefix = section + "."
        return {
            key[len(prefix) :]: pair for key, pair in self.entries.items() if key.startswith(prefix)
        }
