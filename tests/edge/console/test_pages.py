"""The pages come from templates with auto-escaping, and every word from the one catalogue.

A value someone typed (a visitor's name, a visit reason, a guard's note, an error text) shows
as text on every page that shows it, never as markup; templates and scripts name words by id
only, and every id they name has both languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.app.boot import build_gate
from edge.console import catalogue, ledgers, messages
from edge.console.app import STATIC_DIR, create_app
from edge.console.deps import SyncView
from edge.console.routes.pages import SIM_CASES
from edge.console.routes.visitor_pages import VISIT_REASONS
from edge.console.templating import TEMPLATE_DIR
from edge.model import Outcome
from tests.edge.console.conftest import HOST, Console, console_context, serve
from tests.edge.console.test_visitors import register
from tests.edge.console.visitor_gate import all_day_settings

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # ideographs: words
TEMPLATE_IDS = re.compile(r"""\bt\(\s*'([^']+)'\s*[,)]""")
SCRIPT_IDS = re.compile(r"""\bT\(\s*"([^"]+)"\s*[,)]""")
EVIL = "<script>alert(1)</script>"
SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _templates() -> list[Path]:
    return sorted(TEMPLATE_DIR.rglob("*.html"))


# ------------------------------------------------------------------------------ the catalogue


def test_every_message_has_both_languages() -> None:
    blank = [key for key, (zh, en) in messages.CATALOGUE.items() if not zh or not en]
    assert blank == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('"nav.x" = ["导航"]', "nav.x needs [Chinese, English], both non-empty"),
        ('"nav.x" = ["导航", ""]', "nav.x needs [Chinese, English], both non-empty"),
        ('"nav.x" = ["{n} 条", "{count} rows"]', "nav.x names ['n'] in Chinese but ['count']"),
    ],
    ids=["one-language", "empty", "fields-differ"],
)
def test_a_words_file_missing_a_language_or_a_field_is_refused(
    tmp_path: Path, line: str, problem: str
) -> None:
    """The catalogues are data read at import: a slip in them stops the console from starting
    and names the file and the id, rather than showing a blank or a raw ``{field}`` on a page."""
    words = tmp_path / "messages.toml"
    words.write_text('"nav.ok" = ["好", "Fine"]\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(problem)) as refused:
        catalogue.load(words)
    assert str(words) in str(refused.value)
    words.write_text('"nav.ok" = ["{n} 条", "{n} rows"]\n', encoding="utf-8")
    assert catalogue.load(words) == {"nav.ok": ("{n} 条", "{n} rows")}


def test_every_id_a_template_names_is_in_the_catalogue() -> None:
    named = {m for path in _templates() for m in TEMPLATE_IDS.findall(path.read_text("utf-8"))}
    assert len(named) > 100  # the scan finds the calls
    assert sorted(named - messages.CATALOGUE.keys()) == []
    # Words a template looks up by a code (term('visit_reason', code)): each code has them.
    for section, codes in (
        ("visit_reason", VISIT_REASONS),
        ("sim_case", SIM_CASES),
        ("outcome", [o.value for o in Outcome]),
    ):
        assert [c for c in codes if f"{section}.{c}" not in messages.CATALOGUE] == [], section


def test_every_id_a_script_names_is_handed_to_the_scripts() -> None:
    scripts = sorted(STATIC_DIR.glob("*.js"))
    named = {m for path in scripts for m in SCRIPT_IDS.findall(path.read_text("utf-8"))}
    assert len(named) > 40
    assert sorted(named - messages.for_script().keys()) == []


@pytest.mark.parametrize(
    "path",
    [
        *_templates(),
        *sorted(STATIC_DIR.glob("*.js")),
        ROOT / "edge/console/routes/pages.py",
        ROOT / "edge/console/routes/visitor_pages.py",
    ],
    ids=lambda p: p.name,
)
def test_no_words_outside_the_catalogue(path: Path) -> None:
    """Chinese only in the catalogue: pages and scripts name their words by id."""
    lines = [line for line in path.read_text("utf-8").splitlines() if CJK.search(line)]
    assert lines == []


def test_the_log_heads_its_columns_as_the_paper_register_does() -> None:
    zh = tuple(messages.words(column)[0] for column in messages.LOG_COLUMNS)
    assert zh == ledgers.REGISTER_HEADINGS


def test_a_stored_code_is_shown_in_words_and_an_unknown_one_as_itself() -> None:
    assert messages.term("reason", "expired") == "通行证已过期"
    assert messages.term("reason", "expired", "en") == "Pass expired"
    assert messages.term("reason", "from_a_newer_gate", "en") == "from_a_newer_gate"
    assert messages.term("outcome", None) == ""
    assert messages.text("en", "visitors.hours", max="8") == "Valid for (hours, at most 8)"
    # Both languages of a stored code at once (the live stream sends both), from the same words.
    assert messages.both("alarm", "fever") == messages.words("alarm.fever")
    assert messages.both("reason", "from_a_newer_gate") == ("from_a_newer_gate",) * 2
    assert messages.both("outcome", None) == ("", "")
    assert messages.words(messages.ACK_PICKS["fever"][0]) == ("已复测", "Re-measured")


# ------------------------------------------------------------------------------ escaping


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Console]:
    yield from serve(build_gate(all_day_settings(tmp_path / "state")))


def _shown_as_text(html: str, where: str) -> None:
    assert EVIL not in html, where
    assert SHOWN in html, where


def test_typed_values_show_as_text_on_every_page(desk: Console) -> None:
    """A visit reason and a guard's note with markup in them: the log, the registration list
    and the pass show them as text (both languages), as the sign-in page does a ``next``."""
    view = register(desk, reason=EVIL, present=True)["registration"]
    desk.wait_step("ask")
    overridden = desk.client.post("/api/v1/lanes/in-1/override", json={"reason": EVIL})
    assert overridden.status_code == 200, overridden.text
    desk.wait_entries(1)
    for lang in ("zh", "en"):
        desk.client.cookies.set("kakou_lang", lang)
        _shown_as_text(desk.client.get("/log").text, f"/log {lang}")
        _shown_as_text(desk.client.get("/visitors").text, f"/visitors {lang}")
        _shown_as_text(desk.client.get(f"/visitors/{view['id']}").text, f"pass {lang}")
    login = desk.client.get("/login", params={"next": "/" + EVIL}).text
    assert 'data-next="/&lt;script&gt;alert(1)&lt;/script&gt;"' in login


def test_an_error_text_shows_as_text_on_the_status_page(tmp_path: Path) -> None:
    gate = build_gate(all_day_settings(tmp_path / "state"))
    sync = SyncView(connected=False, broker=EVIL, backlog=0, last_error=EVIL)
    context = replace(console_context(gate), sync_status=lambda: sync)
    try:
        with TestClient(create_app(context), base_url=HOST) as client:
            page = client.get("/status").text
            assert 'id="sync-error">' + SHOWN in page
            _shown_as_text(page, "/status")
    finally:
        gate.stop()


@pytest.mark.parametrize(
    ("as_written", "zh", "en"),
    [
        ("open at 9600 baud", "已连接，9600 波特", "open at 9600 baud"),
        ("open longer than 10 s", "门开启超过 10 秒", "open longer than 10 s"),
        (
            "王*华, household 3-2-501; readings °C: 38.1, 37.9",
            "王*华，住户 3-2-501；体温 38.1, 37.9 °C",
            "王*华, household 3-2-501; 38.1, 37.9 °C",
        ),
        ("household unknown; readings °C: 38.0", "住户 未知；体温 38.0 °C", None),
        ("something new", "something new", "something new"),  # unknown: shown as written
    ],
)
def test_details_written_in_english_are_said_in_the_readers_language(
    as_written: str, zh: str, en: str | None
) -> None:
    assert messages.detail(as_written, "zh") == zh
    if en is not None:
        assert messages.detail(as_written, "en") == en


def test_stored_codes_have_words_in_both_languages() -> None:
    for code in ("mode_normal", "mode_lockdown", "mode_emergency"):
        assert messages.term("reason", code, "zh") != code
        assert messages.term("reason", code, "en") != code
    assert messages.term("direction", "out", "en") == "Out"
    assert messages.term("audit_action", "guard_removed", "en") == "Account removed"
