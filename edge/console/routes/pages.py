# ruff: noqa: E501  (HTML templates read better with their lines whole)
"""Server-rendered pages: sign-in, live lane view, log, daily report, status and the kiosk.

Plain HTML with one small script and one stylesheet, all served by the gate (no CDN: the guard
post is often offline). Chinese first; the language switch is a cookie the server reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edge.console import i18n, ledgers
from edge.console.auth import MaybeGuardDep
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.routes.ledgers import ledger_names
from edge.console.routes.live import hub_of
from edge.console.routes.status import gate_status, trust_state
from edge.model import Outcome
from edge.store.guards import Guard

router = APIRouter(include_in_schema=False)

LOG_PAGE = 50
LANG_COOKIE = "kakou_lang"


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def t(lang: str, zh: str, en: str) -> str:
    return escape(en if lang == "en" else zh)


def _nav(lang: str, guard: Guard | None, current: str) -> str:
    links = [
        ("/", "实时", "Live"),
        ("/log", "记录", "Log"),
        ("/report", "日报", "Report"),
        ("/visitors", "访客车辆", "Visitors"),
        ("/status", "状态", "Status"),
        ("/kiosk", "居民屏", "Kiosk"),
    ]
    items = "".join(
        f'<a href="{href}" class="{"on" if href == current else ""}">{t(lang, zh, en)}</a>'
        for href, zh, en in links
    )
    who = (
        f'<span class="who" id="who">{escape(guard.name)} · {t(lang, "已登录", "signed in")}</span>'
        f'<button class="small" id="sign-out">{t(lang, "退出", "Sign out")}</button>'
        if guard
        else f'<a href="/login">{t(lang, "登录", "Sign in")}</a>'
    )
    switch, other = ("English", "en") if lang == "zh" else ("中文", "zh")
    # A plain link (console.js adds the page's query to ``next``): it works before the script
    # has loaded on a slow phone, and the server sets the cookie.
    switch_href = escape(f"/lang/{other}?{urlencode({'next': current or '/'})}")
    return (
        f'<header><strong class="brand">卡口 Kakou</strong><nav>{items}</nav>'
        f'<div class="me">{who}<a class="button small" id="lang-switch" href="{switch_href}">'
        f"{switch}</a>"
        f'<button class="small" id="theme-switch" title="{t(lang, "日光下更易读", "Easier to read in sunlight")}">'
        f"☀ {t(lang, '日光', 'Sunlight')}</button></div>"
        "</header>"
    )


def page(
    lang: str,
    title: str,
    body: str,
    *,
    guard: Guard | None = None,
    current: str = "",
    script: bool = True,
    body_class: str = "",
    assets: tuple[str, ...] = (),
) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="{"en" if lang == "en" else "zh-CN"}">
<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Kakou</title>
<link rel="stylesheet" href="/static/console.css">{"".join(f'<link rel="stylesheet" href="/static/{a}">' for a in assets if a.endswith(".css"))}</head>
<body class="{body_class}">
{_nav(lang, guard, current) if body_class != "kiosk" else ""}
<main>{body}</main>
{'<script src="/static/console.js"></script>' if script else ""}{"".join(f'<script src="/static/{a}"></script>' for a in assets if a.endswith(".js"))}
</body></html>"""
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _need_sign_in(request: Request) -> Response:
    return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)


def local_path(next: str | None) -> str:
    """``next`` if it is a path on this console, else ``/``: never an address elsewhere.

    Browsers read ``//evil`` and ``/\\evil`` as another host, and drop tabs and line breaks
    first (``/\\t/evil`` is ``//evil``), so a backslash or any control character or space
    anywhere refuses it, as does a second leading slash."""
    if not next or not next.startswith("/") or next.startswith("//"):
        return "/"
    if "\\" in next or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in next):
        return "/"
    parts = urlsplit(next)
    return "/" if parts.scheme or parts.netloc else next


@router.get("/lang/{to}")
def switch_language(to: Literal["zh", "en"], next: str = "/") -> RedirectResponse:
    """Remember the language on this device for a year, and go back to the page it came from
    (a path on this console only: never an address elsewhere)."""
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(LANG_COOKIE, to, max_age=365 * 24 * 3600, path="/", samesite="strict")
    return response


@router.get("/login")
def login(request: Request, next: str = "/") -> Response:
    """The sign-in form; after it the script goes to ``next``, checked here (``local_path``)."""
    lang = lang_of(request)
    body = f"""
<section class="card narrow">
  <h1>{t(lang, "值守人员登录", "Guard sign-in")}</h1>
  <form id="sign-in-form" data-next="{escape(local_path(next))}">
    <label>{t(lang, "姓名", "Name")}<input name="name" id="name" autocomplete="username" required></label>
    <label>{t(lang, "密码或PIN", "PIN or password")}
      <input name="secret" id="secret" type="password" autocomplete="current-password" required>
    </label>
    <button type="submit" class="big primary">{t(lang, "登录", "Sign in")}</button>
    <p class="error" id="sign-in-error" role="alert"></p>
  </form>
</section>"""
    return page(lang, "登录", body, current="/login")


@router.get("/")
def live_view(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    if guard is None:
        return _need_sign_in(request)
    lang = lang_of(request)
    lanes = "".join(
        f'<section class="lane card" data-lane="{escape(lane_id)}" id="lane-{escape(lane_id)}">'
        f"<h2>{t(lang, '通道', 'Lane')} {escape(lane_id)}</h2>"
        '<ol class="steps"></ol><div class="visit"></div><div class="verdict"></div>'
        '<div class="questions"></div>'
        '<div class="actions">'
        f'<form class="manual"><label>{t(lang, "手持测温 °C", "Handheld °C")}'
        '<input name="body_c" type="number" step="0.1" min="30" max="45" inputmode="decimal">'
        f'</label><button class="big">{t(lang, "提交体温", "Submit reading")}</button></form>'
        f'<form class="override"><label>{t(lang, "人工放行原因（必填）", "Override reason (required)")}'
        '<input name="reason" maxlength="500"></label>'
        f'<button class="big warn">{t(lang, "人工放行", "Override")}</button></form>'
        f'<button class="big cancel">{t(lang, "取消本次", "Cancel visit")}</button>'
        "</div></section>"
        for lane_id in context.lanes
    )
    samples = "".join(
        f'<button class="big sim-sample" data-case="{case}">{t(lang, zh, en)}</button>'
        for case, zh, en in (
            ("resident", "居民通行证", "Resident pass"),
            ("temporary", "临时通行证", "Temporary pass"),
            ("expired", "过期通行证", "Expired pass"),
            ("forged", "伪造通行证", "Forged pass"),
        )
    )
    sim = (
        f'<section class="card sim"><h2>{t(lang, "模拟（无硬件时使用）", "Simulation (no hardware)")}</h2>'
        f'<div class="sim-samples">{samples}</div>'
        '<form id="sim-temp"><input name="value" type="number" step="0.1" value="36.5">'
        f'<button class="big">{t(lang, "设定下次体温", "Set next temperature")}</button></form>'
        '<form id="sim-form"><input name="text" placeholder="KK1:…">'
        f'<button class="big">{t(lang, "扫描此码", "Scan this code")}</button></form>'
        '<form id="sim-crowd"><input name="count" type="number" min="1" max="1000" value="50">'
        f'<button class="big">{t(lang, "模拟人流", "Start a crowd")}</button></form>'
        '<p id="sim-crowd-status" class="sim-status" aria-live="polite"></p></section>'
        if context.simulation is not None
        else ""
    )
    body = f"""
<div id="alarms" class="alarms" aria-live="assertive"></div>
<section class="duty card"><span id="duty-list"></span>
  <button class="big" id="take-duty">{t(lang, "接班", "Take the shift")}</button></section>
<div class="lanes" id="lanes" data-lang="{lang}">{lanes}</div>
{sim}"""
    return page(lang, "实时", body, guard=guard, current="/")


LOG_HEADINGS_EN = (
    "Seq",
    "Time",
    "Lane",
    "Dir",
    "Pass",
    "Kind",
    "Name",
    "Household",
    "Temp °C",
    "Answers",
    "Decision",
    "Reasons",
    "Guard",
    "Note",
)


def _entries_table(lang: str, context: ConsoleContext, rows: list[list[str | int]]) -> str:
    """The log as a table; each cell carries its heading, so on a phone (CSS below 600 px)
    an entry reads as a card of labelled lines instead of 14 columns scrolled sideways."""
    headings = LOG_HEADINGS_EN if lang == "en" else ledgers.REGISTER_HEADINGS
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{escape(label)}">{escape(str(cell))}</td>'
            for label, cell in zip(headings, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table id="entries"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


@router.get("/log")
def log_page(
    request: Request,
    context: ContextDep,
    guard: MaybeGuardDep,
    day: date | None = None,
    outcome: Outcome | None = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    pass_id: Annotated[str | None, Query(max_length=128)] = None,
    lane: Annotated[str | None, Query(max_length=64)] = None,
    before_seq: int | None = None,
) -> Response:
    if guard is None:
        return _need_sign_in(request)
    lang = lang_of(request)
    zone = context.zone
    since = until = None
    if day is not None:
        since = datetime.combine(day, time(0), tzinfo=zone)
        until = since + timedelta(days=1)
    entries = context.store.entries(
        since=since,
        until=until,
        outcome=outcome,
        household=household or None,
        pass_id=pass_id or None,
        lane=lane or None,
        before_seq=before_seq,
        newest_first=True,
        limit=LOG_PAGE,
    )
    names = ledger_names(context, lang)
    rows = [ledgers.register_row(e, zone, names) for e in entries]
    if lang == "en":
        for row, entry in zip(rows, entries, strict=True):
            row[10] = i18n.en(i18n.OUTCOMES, entry.draft.outcome.value)
            row[11] = "; ".join(i18n.en(i18n.REASONS, r) for r in entry.draft.reasons)
    filters = {
        k: v
        for k, v in {
            "day": day.isoformat() if day else None,
            "outcome": outcome.value if outcome else None,
            "household": household or None,
            "pass_id": pass_id or None,
            "lane": lane or None,
        }.items()
        if v
    }
    older = (
        f'<a class="button" id="older" href="/log?'
        f'{escape(urlencode({**filters, "before_seq": entries[-1].seq}))}">'
        f"{t(lang, '更早', 'Older')} →</a>"
        if len(entries) == LOG_PAGE
        else ""
    )
    options = "".join(
        f'<option value="{o.value}" {"selected" if outcome is o else ""}>'
        f"{t(lang, *i18n.OUTCOMES[o.value])}</option>"
        for o in Outcome
    )
    lane_options = "".join(
        f'<option value="{escape(lane_id)}" {"selected" if lane_id == lane else ""}>'
        f"{escape(lane_id)}</option>"
        for lane_id in context.lanes
    )
    # The exports take the log's filters, the day as a time window (its local midnights).
    export_query = {k: v for k, v in filters.items() if k != "day"}
    if since and until:
        export_query.update(since=since.isoformat(), until=until.isoformat())
    q = escape(urlencode(export_query))
    body = f"""
<section class="card">
<h1>{t(lang, "出入记录", "Entry log")}</h1>
<form class="filters" method="get" action="/log">
  <label>{t(lang, "日期", "Day")}<input type="date" name="day" value="{escape(filters.get("day", ""))}"></label>
  <label>{t(lang, "结果", "Decision")}<select name="outcome"><option value="">—</option>{options}</select></label>
  <label>{t(lang, "住户", "Household")}<input name="household" value="{escape(household or "")}"></label>
  <label>{t(lang, "通行证号", "Pass id")}<input name="pass_id" value="{escape(pass_id or "")}"></label>
  <label>{t(lang, "通道", "Lane")}<select name="lane"><option value="">—</option>{lane_options}</select></label>
  <button class="big">{t(lang, "查询", "Search")}</button>
</form>
<p class="exports">{t(lang, "导出", "Export")}:
  <a class="button" id="export-entries-csv" href="/api/v1/exports/entries.csv?{q}">登记表 CSV</a>
  <a class="button" id="export-entries-xlsx" href="/api/v1/exports/entries.xlsx?{q}">登记表 XLSX</a>
  <a class="button" id="export-fever-csv" href="/api/v1/exports/fever.csv?{q}">发热台账 CSV</a>
  <a class="button" id="export-fever-xlsx" href="/api/v1/exports/fever.xlsx?{q}">发热台账 XLSX</a>
</p>
{_entries_table(lang, context, rows)}
<p>{older}</p>
</section>"""
    return page(lang, "记录", body, guard=guard, current="/log")


def hourly_svg(hours: dict[str, list[int]], lang: str) -> str:
    """Stacked bars per hour: passed green, denied grey, fever red, others blue."""
    colours = {
        "passed": "#2e9e5b",
        "overridden": "#d9a400",
        "denied": "#8a8f98",
        "fever": "#d7263d",
        "abandoned": "#4a78c2",
        "mode_change": "#6b4fbb",
    }
    totals = [sum(hours[o][h] for o in hours) for h in range(24)]
    top = max([*totals, 1])
    width, height, pad = 720, 240, 30
    bar = (width - pad) / 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 40}" '
        f'role="img" aria-label="{t(lang, "每小时通行人次", "Entries per hour")}" class="chart">',
        f'<text x="0" y="14" class="axis">{top}</text>',
    ]
    for h in range(24):
        y = float(height)
        for outcome, colour in colours.items():
            n = hours.get(outcome, [0] * 24)[h]
            if not n:
                continue
            bar_h = n / top * (height - 20)
            y -= bar_h
            parts.append(
                f'<rect x="{pad + h * bar + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" '
                f'height="{bar_h:.1f}" fill="{colour}"><title>{h:02d}:00 {outcome} {n}</title></rect>'
            )
        parts.append(
            f'<text x="{pad + h * bar + bar / 2:.1f}" y="{height + 16}" class="axis" '
            f'text-anchor="middle">{h}</text>'
        )
    legend_x = pad
    for outcome, colour in colours.items():
        parts.append(
            f'<rect x="{legend_x}" y="{height + 24}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{height + 35}" class="axis">'
            f"{t(lang, *i18n.OUTCOMES[outcome])}</text>"
        )
        legend_x += 110
    parts.append("</svg>")
    return "".join(parts)


@router.get("/report")
def report_page(
    request: Request, context: ContextDep, guard: MaybeGuardDep, day: date | None = None
) -> Response:
    if guard is None:
        return _need_sign_in(request)
    lang = lang_of(request)
    zone = context.zone
    day = day or context.now().astimezone(zone).date()
    hours = ledgers.hourly_counts(context.store, datetime.combine(day, time(0), tzinfo=zone))
    totals = "".join(
        f'<div class="total {o}"><b>{sum(hours[o])}</b><span>{t(lang, *i18n.OUTCOMES[o])}</span></div>'
        for o in hours
    )
    body = f"""
<section class="card"><h1>{t(lang, "卡口日报", "Daily report")} {day.isoformat()}</h1>
<form method="get" action="/report"><input type="date" name="day" value="{day.isoformat()}">
<button class="big">{t(lang, "查看", "Show")}</button></form>
<div class="totals" id="totals">{totals}</div>
{hourly_svg(hours, lang)}</section>"""
    return page(lang, "日报", body, guard=guard, current="/report")


@router.get("/status")
def status_page(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    """Devices, lanes, sync, clock, storage and open alarms, as ``GET /api/v1/status`` has them."""
    lang = lang_of(request)
    zone = context.zone
    status = gate_status(context, hub_of(request))
    none = "—"

    def when(at: datetime | None) -> str:
        return none if at is None else escape(at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"))

    def size(n: int | None) -> str:
        if n is None:
            return none
        for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if n >= scale:
                return f"{n / scale:.1f} {unit}"
        return f"{n} B"

    def yes_no(value: bool | None, zh_yes: str, en_yes: str, zh_no: str, en_no: str) -> str:
        if value is None:
            return t(lang, "未知", "unknown")
        return t(lang, zh_yes, en_yes) if value else t(lang, zh_no, en_no)

    health_words = {
        "ok": ("正常", "ok"),
        "degraded": ("异常", "degraded"),
        "down": ("离线", "down"),
    }
    alarms = (
        "".join(
            f'<li class="alarm-row {escape(a.kind)}" data-kind="{escape(a.kind)}">'
            f"<b>{t(lang, a.text_zh, a.text_en)}</b>"
            f"{' · ' + t(lang, '通道', 'lane') + ' ' + escape(a.lane) if a.lane else ''}"
            f" · {when(a.raised_at)}</li>"
            for a in status.alarms
        )
        or f'<li class="quiet">{t(lang, "无未处置警报", "No open alarms")}</li>'
    )
    devices = "".join(
        f'<tr class="{d.health}" data-device="{escape(d.name)}"><td>{escape(d.name)}</td>'
        f'<td class="health">{t(lang, *health_words[d.health])}</td><td>{escape(d.detail)}</td>'
        f'<td class="reading">{none if d.last_reading_c is None else f"{d.last_reading_c:.1f} °C · {when(d.last_reading_at)}"}</td>'
        f'<td class="frame-age">{none if d.last_frame_age_s is None else f"{d.last_frame_age_s:.0f} s"}</td>'
        f'<td class="last-error">{escape(d.last_error or none)}</td></tr>'
        for d in status.devices
    )
    lanes = "".join(
        f'<tr class="{"ok" if s.alive else "down"}"><td>{escape(s.lane)}</td>'
        f"<td>{t(lang, *i18n.STEPS.get(s.step, (s.step, s.step)))}</td>"
        f"<td>{t(lang, *i18n.MODES.get(s.mode, (s.mode, s.mode)))}</td>"
        f"<td>{'✔' if s.alive else '✘'}</td>"
        f"<td>{s.unsaved_entries}</td></tr>"
        for s in status.lanes
    )
    sync = status.sync
    if sync.enabled:
        sync_state = yes_no(sync.connected, "已连接", "connected", "未连接", "not connected")
        sync_state += f" · {escape(sync.broker or none)}"
    else:
        sync_state = t(
            lang, "同步未启用（记录留在本机待发）", "sync off (entries wait on the gate)"
        )
    last_ack = when(sync.last_ack_at)
    if sync.last_ack_seq is not None:
        last_ack += f" · {t(lang, '序号', 'seq')} {sync.last_ack_seq}"
    clock = status.clock
    offset = none if clock.offset_s is None else f"{clock.offset_s:+.1f} s"
    storage = status.storage
    disk_free = size(storage.disk_free_bytes)
    if storage.disk_free_percent is not None:
        disk_free += f" ({storage.disk_free_percent:.1f} %)"
    body = f"""
<section class="card"><h1>{t(lang, "系统状态", "Status")}</h1>
<h2>{t(lang, "未处置警报", "Open alarms")}</h2>
<ul class="status-alarms" id="status-alarms">{alarms}</ul>
<div class="facts-grid">
<div><h2>{t(lang, "存储", "Storage")}</h2><dl class="facts" id="storage">
<dt>{t(lang, "数据库完整性", "Store integrity")}</dt><dd id="integrity">{escape(storage.integrity)}</dd>
<dt>{t(lang, "已存记录", "Entries stored")}</dt><dd id="entries-stored">{storage.entries_stored}</dd>
<dt>{t(lang, "最后序号", "Last seq")}</dt><dd id="last-seq">{storage.last_seq}</dd>
<dt>{t(lang, "数据库大小", "Database size")}</dt><dd id="db-size">{size(storage.db_bytes)}</dd>
<dt>{t(lang, "磁盘剩余", "Free disk")}</dt><dd id="disk-free">{disk_free}</dd>
</dl></div>
<div><h2>{t(lang, "同步", "Sync")}</h2><dl class="facts" id="sync">
<dt>{t(lang, "状态", "State")}</dt><dd id="sync-state">{sync_state}</dd>
<dt>{t(lang, "待确认记录", "Backlog")}</dt><dd id="sync-backlog">{sync.backlog}</dd>
<dt>{t(lang, "最后确认", "Last acknowledgement")}</dt><dd id="sync-last-ack">{last_ack}</dd>
<dt>{t(lang, "最后错误", "Last error")}</dt><dd id="sync-error">{escape(sync.last_error or none)}</dd>
</dl></div>
<div><h2>{t(lang, "时钟", "Clock")}</h2><dl class="facts" id="clock">
<dt>{t(lang, "网络校时", "NTP")}</dt><dd id="clock-synced">{yes_no(clock.synced, "已同步", "synced", "未同步", "not synced")}</dd>
<dt>{t(lang, "与社区服务器偏差", "Offset to the receiver")}</dt><dd id="clock-offset">{offset}</dd>
<dt>{t(lang, "最后可信时间", "Last trusted time")}</dt><dd id="clock-trusted">{when(clock.last_trusted_at)}</dd>
</dl></div>
</div>
<h2>{t(lang, "通道", "Lanes")}</h2>
<table><thead><tr><th>{t(lang, "通道", "Lane")}</th><th>{t(lang, "步骤", "Step")}</th>
<th>{t(lang, "模式", "Mode")}</th><th>{t(lang, "运行", "Alive")}</th>
<th>{t(lang, "未保存", "Unsaved")}</th></tr></thead><tbody>{lanes}</tbody></table>
<h2>{t(lang, "设备", "Devices")}</h2>
<div class="scroll"><table id="devices"><thead><tr><th>{t(lang, "设备", "Device")}</th>
<th>{t(lang, "状态", "Health")}</th><th>{t(lang, "说明", "Detail")}</th>
<th>{t(lang, "最后读数", "Last reading")}</th><th>{t(lang, "最后通信", "Last frame")}</th>
<th>{t(lang, "最后错误", "Last error")}</th></tr></thead>
<tbody>{devices}</tbody></table></div>{trust_section(lang, context, when) if guard else ""}</section>"""
    return page(lang, "状态", body, guard=guard, current="/status")


def trust_section(
    lang: str, context: ConsoleContext, when: Callable[[datetime | None], str]
) -> str:
    """The keys the gate trusts and the trust audit, for a signed-in guard (docs/passes.md)."""
    trust = trust_state(context)
    actions = {
        "added": ("新增", "added"),
        "replaced": ("替换", "replaced"),
        "moved": ("来源变更", "moved"),
        "retired": ("停用", "retired"),
        "revoked": ("吊销", "revoked"),
    }

    def at(text: str) -> str:
        return when(datetime.fromisoformat(text))

    keys = "".join(
        f'<tr class="{"down" if k.revoked else "ok"}" data-kid="{escape(k.kid)}">'
        f"<td>{escape(k.kid)}</td><td>{escape(k.source)}</td><td><code>{escape(k.fingerprint)}"
        f"</code></td><td>{at(k.added_at)}</td>"
        f"<td>{t(lang, '已吊销', 'revoked') if k.revoked else t(lang, '有效', 'trusted')}</td></tr>"
        for k in trust.keys
    )
    changes = "".join(
        f'<tr data-action="{escape(c.action)}"><td>{at(c.at)}</td><td>{escape(c.kid)}</td>'
        f"<td>{t(lang, *actions.get(c.action, (c.action, c.action)))}</td>"
        f"<td>{escape(c.source)}</td><td>{escape(c.detail)}</td></tr>"
        for c in trust.changes
    )
    return f"""
<h2>{t(lang, "信任的签发密钥", "Trusted keys")}</h2>
<div class="scroll"><table id="trusted-keys"><thead><tr><th>{t(lang, "密钥", "Key")}</th>
<th>{t(lang, "来源", "Source")}</th><th>{t(lang, "指纹", "Fingerprint")}</th>
<th>{t(lang, "加入时间", "Added")}</th><th>{t(lang, "状态", "State")}</th></tr></thead>
<tbody>{keys}</tbody></table></div>
<h2>{t(lang, "信任变更记录", "Changes of trust")}</h2>
<div class="scroll"><table id="trust-changes"><thead><tr><th>{t(lang, "时间", "Time")}</th>
<th>{t(lang, "密钥", "Key")}</th><th>{t(lang, "变更", "Change")}</th>
<th>{t(lang, "来源", "Source")}</th><th>{t(lang, "说明", "Detail")}</th></tr></thead>
<tbody>{changes}</tbody></table></div>"""


@router.get("/kiosk")
def kiosk(request: Request, context: ContextDep, lane: str | None = None) -> Response:
    lane_id = lane if lane is not None and lane in context.lanes else next(iter(context.lanes))
    body = f"""
<div id="kiosk" data-lane="{escape(lane_id)}">
  <div class="kiosk-zh" id="kiosk-zh">请出示通行证</div>
  <div class="kiosk-en" id="kiosk-en">Please show your pass</div>
  <div class="kiosk-detail" id="kiosk-detail"></div>
</div>"""
    return page("zh", "居民屏", body, body_class="kiosk")
