"""Every word the console shows a guard, a resident or the office: one catalogue, Chinese first.

The words are data, ``messages.toml`` beside this module (message id = [Chinese, English]),
read and checked once at import (:func:`edge.console.catalogue.load`). A message id names a text
(``"nav.log"``, ``"outcome.fever"``, ``"js.alarm.ack"``). Pages look ids up through the
templates' ``t`` global, Python (the API's texts, the log) through :func:`text` and
:func:`term`, and the scripts through the ids starting with one of :data:`SCRIPT_PREFIXES`,
which every page hands them (the ``data-messages`` attribute of ``<body>``). A ``{name}`` in a
text is filled from keyword arguments (the scripts fill it the same way).

Codes stored in entries and alarms (reasons, outcomes, steps…) stay codes: evidence, stable
across versions. ``term("reason", code)`` says what one means; an unknown code is shown as
itself rather than hidden; ``both(section, code)`` gives its (Chinese, English).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.resources import files
from typing import Literal

from edge.console.catalogue import Catalogue, Words, load

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

CATALOGUE = load(files("edge.console") / "messages.toml")
"""Message id → (Chinese, English)."""

SCRIPT_PREFIXES = ("js.", "step.", "mode.")
"""The ids the scripts read (console.js, registration.js); each page hands them these only."""

LOG_COLUMNS: tuple[str, ...] = tuple(key for key in CATALOGUE if key.startswith("log.col."))
"""The log table's headings, in the order ``ledgers.register_row`` gives the cells."""

_FEVER_PICKS = ("ack_note.remeasured", "ack_note.reported", "ack_note.turned_away")
_DOOR_PICKS = ("ack_note.checked_on_site", "ack_note.false_alarm")
_REPAIR_PICKS = ("ack_note.repair_requested",)
ACK_PICKS: dict[str, tuple[str, ...]] = {
    "fever": _FEVER_PICKS,
    "fever_unconfirmed": _FEVER_PICKS,
    "door_forced": _DOOR_PICKS,
    "door_held_open": _DOOR_PICKS,
    "device_down": _REPAIR_PICKS,
    "lane_down": _REPAIR_PICKS,
    "store_failed": _REPAIR_PICKS,
    "disk_filling": _REPAIR_PICKS,
    "sync_backlog": ("ack_note.told_property",),
    "downlink_refused": ("ack_note.told_office",),
}
"""The note picks offered when acknowledging an alarm, by alarm kind (message ids)."""

# Details the devices, the lanes and the rule write in English (DeviceStatus.detail, an alarm's
# detail): stored as written, said in the reader's language at display time by ``detail()``.
_DETAIL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message_id)
    for pattern, message_id in (
        (r"open at (?P<baud>\d+) baud", "detail.open_at"),
        (r"stopped", "detail.stopped"),
        (r"cannot open (?P<what>\S+): (?P<error>.*)", "detail.cannot_open"),
        (r"read failed: (?P<error>.*)", "detail.read_failed"),
        (r"write failed: (?P<error>.*)", "detail.write_failed"),
        (r"internal error: (?P<error>.*)", "detail.internal_error"),
        (r"last frame: (?P<fault>.*)", "detail.last_frame"),
        (r"configuration: (?P<failure>.*)", "detail.configuration"),
        (r"no frame for (?P<s>[\d.]+) s; reopening", "detail.no_frame_reopening"),
        (r"no frame for (?P<s>[\d.]+) s", "detail.no_frame"),
        (r"closed", "detail.door_closed"),
        (r"open", "detail.door_open"),
        (r"held open", "detail.door_held_open"),
        (r"open longer than (?P<s>[\d.]+) s", "detail.door_open_longer"),
        (r"worker died", "detail.worker_died"),
        (r"entry unsaved", "detail.entry_unsaved"),
        # edge.rule's fever detail: "王*华, household 3-2-501; readings °C: 38.1, 37.9"
        (
            r"(?:(?P<holder>[^,;]*), )?household (?P<unit>.*?); readings °C: (?P<readings>.*)",
            "detail.fever",
        ),
    )
)

BOOK = Catalogue(CATALOGUE)
"""The look-ups below, and what the office's catalogue falls back to."""
words = BOOK.words
text = BOOK.text
term = BOOK.term
table = BOOK.table


def both(section: str, code: str | None) -> Words:
    """What a stored code means in both languages, for the replies that carry both
    (``step_zh``/``step_en``): the code itself if unknown, ("", "") for none."""
    return term(section, code, "zh"), term(section, code, "en")


def detail(text_as_written: str | None, lang: str = "zh") -> str:
    """A device's or an alarm's detail (written in English where it happens) in ``lang``; one
    that matches no pattern in ``_DETAIL_PATTERNS`` shows as written."""
    if not text_as_written:
        return ""
    for pattern, message_id in _DETAIL_PATTERNS:
        found = pattern.fullmatch(text_as_written)
        if found is None:
            continue
        fields = {k: v or "" for k, v in found.groupdict().items()}
        if fields.get("holder"):
            fields["holder"] += text(lang, "detail.holder_separator")
        if fields.get("unit") == "unknown":
            fields["unit"] = text(lang, "detail.unknown_unit")
        return text(lang, message_id, **fields)
    return text_as_written


def for_script() -> Mapping[str, tuple[str, str]]:
    """The messages the scripts read, both languages (the kiosk shows both at once)."""
    return _FOR_SCRIPT


_FOR_SCRIPT = {key: pair for key, pair in CATALOGUE.items() if key.startswith(SCRIPT_PREFIXES)}
