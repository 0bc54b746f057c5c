"""The catalogue's stored-code sections as the ``(zh, en)`` tables older callers read.

The words live in :mod:`edge.console.messages`, the console's one catalogue; these are views of
it for code that still looks up ``i18n.REASONS[code]`` or ``i18n.zh(i18n.ALARMS, kind)`` (the live
stream and status routes). New code uses ``messages.term(section, code, lang)``. An unknown code
is shown as itself rather than hidden.
"""

from __future__ import annotations

from edge.console import messages

STEPS = messages.table("step")
OUTCOMES = messages.table("outcome")
MODES = messages.table("mode")
KINDS = messages.table("kind")
REASONS = messages.table("reason")
ALARMS = messages.table("alarm")
ACK_NOTES: dict[str, tuple[tuple[str, str], ...]] = {
    kind: tuple(messages.words(pick) for pick in picks)
    for kind, picks in messages.ACK_PICKS.items()
}
"""Quick picks for an acknowledgement's note, by alarm kind: (what the note says, its English)."""


def zh(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, (code, code))[0]


def en(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, (code, code))[1]
