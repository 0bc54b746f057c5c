# ruff: noqa: E501  (HTML templates read better with their lines whole)
"""The registration pages: the visitor and vehicle forms, the recent list, one pass to show.

The forms post JSON to the API (static/registration.js) so the page can put each refused
field's message next to that field; phone and ID numbers are shown masked everywhere.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from edge.console.auth import MaybeGuardDep
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.routes.pages import _need_sign_in, lang_of, page, t
from edge.identity import mask_id_number, mask_phone
from edge.store.registrations import Registration
from edge.visitors import display_number

router = APIRouter(include_in_schema=False)
ASSETS = ("registration.css", "registration.js")
RECENT = 30
REASONS = ("探亲访友", "快递外卖", "维修施工", "家政服务", "看病就医", "其他")


def _lane_select(context: ConsoleContext, lang: str) -> str:
    options = "".join(
        f'<option value="{escape(lane_id)}">{escape(lane_id)}</option>' for lane_id in context.lanes
    )
    return f'<label>{t(lang, "通道", "Lane")}<select name="lane">{options}</select></label>'


def _field(lang: str, name: str, zh: str, en: str, extra: str = "") -> str:
    return (
        f'<label>{t(lang, zh, en)}<input name="{name}" {extra}>'
        f'<span class="field-error" data-for="{name}"></span></label>'
    )


def _common_fields(context: ConsoleContext, lang: str) -> str:
    desk = context.desk
    assert desk is not None
    reasons = "".join(f'<option value="{escape(r)}">' for r in REASONS)
    return (
        _field(
            lang,
            "host_household",
            "被访住户（楼-单元-室）",
            "Host household",
            'required maxlength="32" placeholder="3-2-501"',
        )
        + _field(lang, "reason", "来访事由", "Reason", 'required maxlength="100" list="reasons"')
        + f'<datalist id="reasons">{reasons}</datalist>'
        + _field(
            lang,
            "hours",
            f"有效时长（小时，最长 {desk.max_hours:g}）",
            f"Valid for (hours, at most {desk.max_hours:g})",
            f'type="number" required min="1" max="{desk.max_hours:g}" step="1" value="{desk.settings.default_hours:g}"',
        )
        + _lane_select(context, lang)
    )


def _person_fields(lang: str, prefix: str, *, phone_required: bool) -> str:
    required = "required" if phone_required else ""
    return (
        _field(lang, f"{prefix}name", "姓名", "Name", 'required maxlength="32" autocomplete="off"')
        + _field(
            lang,
            f"{prefix}phone",
            "手机号",
            "Phone",
            f'{required} inputmode="tel" maxlength="20" autocomplete="off"',
        )
        + _field(
            lang,
            f"{prefix}id_number",
            "身份证号",
            "ID card number",
            'maxlength="18" autocomplete="off" class="id-number"',
        )
    )


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def _recent_table(context: ConsoleContext, lang: str, zone: ZoneInfo) -> str:
    desk = context.desk
    assert desk is not None
    revoked = context.store.revoked_ids()
    rows = []
    for r in desk.book.recent(limit=RECENT):
        first = r.people[0]
        kind = t(lang, "车辆", "Vehicle") if r.kind == "vehicle" else t(lang, "访客", "Visitor")
        status = t(lang, "已作废", "revoked") if r.pass_id in revoked else ""
        rows.append(
            f'<tr><td><a href="/visitors/{escape(r.id)}">{_when(r.registered_at, zone)}</a></td>'
            f"<td>{kind}</td><td>{escape(r.plate or '')}</td><td>{escape(first.name)}"
            f"{'' if len(r.people) == 1 else f' +{len(r.people) - 1}'}</td>"
            f"<td>{escape(display_number(first.phone, mask_phone))}</td>"
            f"<td>{escape(display_number(first.id_number, mask_id_number))}</td>"
            f"<td>{escape(r.host_household)}</td><td>{escape(r.reason)}</td>"
            f"<td>{_when(r.valid_until, zone)}</td><td>{status}</td></tr>"
        )
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (
            ("登记时间", "Registered"),
            ("类别", "Kind"),
            ("车牌", "Plate"),
            ("姓名", "Name"),
            ("手机号", "Phone"),
            ("身份证号", "ID card"),
            ("被访住户", "Household"),
            ("事由", "Reason"),
            ("有效至", "Valid until"),
            ("", ""),
        )
    )
    return (
        f'<div class="scroll"><table id="registrations"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


@router.get("/visitors")
def visitors_page(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    if guard is None:
        return _need_sign_in(request)
    lang = lang_of(request)
    if context.desk is None:
        body = f'<section class="card"><h1>{t(lang, "访客登记已关闭", "Visitor registration is off")}</h1></section>'
        return page(lang, "访客车辆", body, guard=guard, current="/visitors")
    body = f"""
<div class="registration-forms">
<section class="card">
  <h1>{t(lang, "访客登记", "Register a visitor")}</h1>
  <form id="visitor-form" class="registration" novalidate>
    {_person_fields(lang, "", phone_required=True)}
    {_common_fields(context, lang)}
    <label class="check"><input type="checkbox" name="present" checked>{t(lang, "访客在卡口，立即核验", "Visitor is at the gate: check now")}</label>
    <button type="submit" class="big primary">{t(lang, "登记并发放通行证", "Register and issue pass")}</button>
    <p class="error" id="visitor-error" role="alert"></p>
  </form>
</section>
<section class="card">
  <h1>{t(lang, "车辆登记", "Register a vehicle")}</h1>
  <form id="vehicle-form" class="registration" novalidate>
    {_field(lang, "plate", "车牌号", "Plate", 'required maxlength="10" placeholder="京A12345" autocomplete="off"')}
    <fieldset id="occupants" data-label-zh="乘员" data-label-en="Occupant">
      <legend>{t(lang, "车内人员（司机在前，每人测温）", "People in the vehicle (driver first, each measured)")}</legend>
      <div class="occupant" data-n="0">{_person_fields(lang, "occupants.0.", phone_required=True)}</div>
    </fieldset>
    <button type="button" class="big" id="add-occupant">{t(lang, "＋ 添加乘员", "+ Add occupant")}</button>
    {_common_fields(context, lang)}
    <button type="submit" class="big primary">{t(lang, "登记并送至通道测温", "Register and measure at the lane")}</button>
    <p class="error" id="vehicle-error" role="alert"></p>
  </form>
</section>
</div>
<section class="card">
  <h2>{t(lang, "最近登记", "Recent registrations")}</h2>
  {_recent_table(context, lang, context.zone)}
</section>"""
    return page(lang, "访客车辆", body, guard=guard, current="/visitors", assets=ASSETS)


def _pass_card(registration: Registration, context: ConsoleContext, lang: str) -> str:
    zone = context.zone
    revoked = registration.pass_id in context.store.revoked_ids()
    is_vehicle = registration.kind == "vehicle"
    people = "".join(
        f"<li>{escape(p.name)} · {escape(display_number(p.phone, mask_phone))}"
        f"{' · ' + escape(display_number(p.id_number, mask_id_number)) if p.id_number else ''}</li>"
        for p in registration.people
    )
    title = (
        t(lang, "车辆通行证", "Vehicle pass")
        if is_vehicle
        else t(lang, "访客通行证", "Visitor pass")
    )
    plate = (
        f'<p class="plate" id="pass-plate">{escape(registration.plate or "")}</p>'
        if is_vehicle
        else ""
    )
    state = (
        f'<p class="revoked" id="pass-revoked">{t(lang, "此通行证已作废", "This pass is revoked")}</p>'
        if revoked
        else ""
    )
    return f"""
<section class="card pass-card" id="pass" data-registration="{escape(registration.id)}" data-pass="{escape(registration.pass_id)}">
  <h1>{title}</h1>
  {state}
  <img class="qr" id="pass-qr" src="/api/v1/registrations/{escape(registration.id)}/qr.svg" alt="{t(lang, "通行证二维码", "Pass QR code")}">
  {plate}
  <dl>
    <dt>{t(lang, "被访住户", "Household")}</dt><dd id="pass-household">{escape(registration.host_household)}</dd>
    <dt>{t(lang, "事由", "Reason")}</dt><dd>{escape(registration.reason)}</dd>
    <dt>{t(lang, "有效期", "Valid")}</dt><dd id="pass-valid">{_when(registration.valid_from, zone)} – {_when(registration.valid_until, zone)}</dd>
    <dt>{t(lang, "通行证号", "Pass id")}</dt><dd>{escape(registration.pass_id)}</dd>
  </dl>
  <ul class="people" id="pass-people">{people}</ul>
  <p class="hint">{t(lang, "请在卡口扫描此二维码，或截图保存。", "Scan this code at the gate, or keep a screenshot.")}</p>
</section>"""


@router.get("/visitors/{registration_id}")
def pass_page(
    registration_id: str, request: Request, context: ContextDep, guard: MaybeGuardDep
) -> Response:
    if guard is None:
        return _need_sign_in(request)
    lang = lang_of(request)
    found = context.desk.book.get(registration_id) if context.desk is not None else None
    if found is None:
        raise HTTPException(status_code=404, detail="no such registration")
    lanes = "".join(
        f'<option value="{escape(lane)}">{escape(lane)}</option>' for lane in context.lanes
    )
    body = f"""
{_pass_card(found, context, lang)}
<section class="card no-print pass-actions">
  <button class="big" id="print-pass">{t(lang, "打印", "Print")}</button>
  <form id="present-form"><select name="lane">{lanes}</select>
    <button class="big primary">{t(lang, "送至通道核验", "Check at the lane")}</button></form>
  <form id="revoke-form"><label>{t(lang, "作废原因", "Reason to revoke")}<input name="reason" maxlength="200" required></label>
    <button class="big warn">{t(lang, "作废通行证", "Revoke pass")}</button></form>
  <p><a class="button" href="/visitors">{t(lang, "返回登记", "Back to registration")}</a> <a class="button" href="/">{t(lang, "实时", "Live")}</a></p>
</section>"""
    return page(lang, "通行证", body, guard=guard, current="/visitors", assets=ASSETS)
