"""Every word the console shows a guard, a resident or the office: one catalogue, Chinese first.

A message id names a text (``"nav.log"``, ``"outcome.fever"``, ``"js.alarm.ack"``); the
catalogue gives it in both languages. Pages look ids up through the templates' ``t`` global,
Python (the API's texts, the log) through :func:`text` and :func:`term`, and the scripts through
the ids starting with one of :data:`SCRIPT_PREFIXES`, which every page hands them (the
``data-messages`` attribute of ``<body>``). A ``{name}`` in a text is filled from keyword
arguments (the scripts fill it the same way).

Codes stored in entries and alarms (reasons, outcomes, steps…) stay codes: evidence, stable
across versions. ``term("reason", code)`` says what one means; an unknown code is shown as
itself rather than hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from edge.console.catalogue import Catalogue, merged

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

# ------------------------------------------------------------------ codes the gate stores

_STEPS = {
    "step.stop": ("停", "Stop"),
    "step.look": ("看", "Look"),
    "step.ask": ("问", "Ask"),
    "step.measure": ("测", "Measure"),
    "step.hold": ("复测", "Re-measure"),
    "step.pass": ("行", "Pass"),
}

_OUTCOMES = {
    "outcome.passed": ("通行", "Passed"),
    "outcome.denied": ("拒绝", "Denied"),
    "outcome.fever": ("发热", "Fever"),
    "outcome.abandoned": ("未完成", "Abandoned"),
    "outcome.overridden": ("人工放行", "Overridden"),
    "outcome.mode_change": ("模式变更", "Mode change"),
}

_MODES = {
    "mode.normal": ("正常", "normal"),
    "mode.lockdown": ("封控", "lockdown"),
    "mode.emergency": ("紧急放行", "emergency"),
}

_DIRECTIONS = {
    "direction.in": ("进", "In"),
    "direction.out": ("出", "Out"),
}

_KINDS = {
    "kind.resident": ("居民", "Resident"),
    "kind.visitor": ("访客", "Visitor"),
    "kind.temporary": ("临时通行", "Temporary"),
    "kind.staff": ("工作人员", "Staff"),
    "kind.vehicle": ("车辆", "Vehicle"),
}

_REASONS = {
    "reason.bad_encoding": ("通行码无法识别", "Code cannot be read"),
    "reason.bad_structure": ("通行码格式错误", "Code is malformed"),
    "reason.unknown_key": ("通行证签发方未知", "Unknown issuer"),
    "reason.bad_signature": ("通行证签名无效（可能伪造）", "Invalid signature (possibly forged)"),
    "reason.not_yet_valid": ("通行证尚未生效", "Pass not yet valid"),
    "reason.expired": ("通行证已过期", "Pass expired"),
    "reason.wrong_community": ("非本小区通行证", "Pass from another community"),
    "reason.gate_not_allowed": ("此通行证不能走本卡口", "Pass not valid at this gate"),
    "reason.revoked": ("通行证已被注销", "Pass revoked"),
    "reason.key_scope": (
        "此通行证的签发权限不足",
        "Signed by a key not allowed to sign this pass",
    ),
    "reason.too_large": ("扫描内容过长", "Scan too large"),
    "reason.clock_unsynced": (
        "时钟未同步，暂不核验通行证",
        "Clock not synchronised: no pass is judged",
    ),
    "reason.manual_reading": ("手持测温（人工录入）", "Handheld reading typed by the guard"),
    "reason.answer_refused": ("问询回答不符合进入条件", "An answer refuses entry"),
    "reason.answers_missing": ("问询未答完", "Questions not answered"),
    "reason.anti_passback": ("重复进出（防回传）", "Anti-passback: already in/out"),
    "reason.exit_quota_exceeded": ("本户外出次数已满", "Household exit quota used up"),
    "reason.kind_gate_not_allowed": ("此类人员不能走本卡口", "This kind may not use this gate"),
    "reason.kind_outside_hours": ("不在允许通行时段", "Outside permitted hours"),
    "reason.fever": ("体温≥37.3°C，复测仍发热", "Fever confirmed on re-measure"),
    "reason.fever_not_confirmed": (
        "首次体温偏高，复测正常",
        "High first reading, re-measure normal",
    ),
    "reason.fever_unconfirmed": ("首次体温偏高，未复测", "High reading not re-measured"),
    "reason.guard_cancelled": ("值守人员取消", "Cancelled by the guard"),
    "reason.timeout_ask": ("问询超时", "Timed out at ask"),
    "reason.timeout_hold": ("复测超时", "Timed out waiting to re-measure"),
    "reason.timeout_measure": ("测温超时", "Timed out at measure"),
    "reason.emergency_free_exit": ("紧急疏散模式", "Emergency free exit"),
    "reason.lockdown": ("封控期间禁止通行", "Lockdown: no entry"),
    "reason.superseded": ("下一位已扫码", "Next person scanned"),
    "reason.mode_changed": ("卡口模式已变更", "Gate mode changed"),
    # A mode change's entry gives the mode it set as its reason (edge.rule: "mode_" + mode).
    "reason.mode_normal": ("恢复正常模式", "Back to normal mode"),
    "reason.mode_lockdown": ("进入封控模式", "Lockdown started"),
    "reason.mode_emergency": ("进入紧急放行模式", "Emergency free exit started"),
    "reason.store_failed": (
        "记录未能及时保存，闸门未开启",
        "Entry not saved in time: gate did not open",
    ),
    "reason.decided_passed": ("原判定：通行", "The rule had decided: pass"),
    "reason.decided_overridden": ("原判定：人工放行", "The guard had decided: let through"),
}

_ALARMS = {
    "alarm.fever": ("发热警报：请隔离复测并上报", "Fever: hold, re-measure, report"),
    "alarm.store_failed": ("记录保存失败：闸门保持关闭", "Entry not saved: gate kept shut"),
    "alarm.lane_down": ("通道程序停止：闸门已锁", "Lane worker stopped: gate locked"),
    "alarm.device_down": ("设备离线", "Device down"),
    "alarm.fever_unconfirmed": (
        "体温偏高且未复测：请追查并上报",
        "High temperature, not re-measured: follow up and report",
    ),
    "alarm.emergency": ("紧急放行模式：闸门常开", "Emergency free exit: gate held open"),
    "alarm.door_forced": ("门被强行打开", "Door forced open"),
    "alarm.door_held_open": ("门长时间未关", "Door held open"),
    "alarm.disk_filling": (
        "磁盘空间不足：请清理或更换存储",
        "Disk filling up: free space or replace it",
    ),
    "alarm.sync_backlog": (
        "同步积压：记录未送达社区服务器",
        "Sync backlog: entries not reaching the community server",
    ),
    "alarm.downlink_refused": (
        "拒绝了一份社区下发的文件：请联系社区办公室核实",
        "A document from the office was refused: check with the community office",
    ),
}

# Quick picks for an acknowledgement's note. The Chinese is what the note says (the ledger is
# kept in Chinese); the English tells a reader of the English console what it means.
_ACK_NOTES = {
    "ack_note.remeasured": ("已复测", "Re-measured"),
    "ack_note.reported": ("已上报社区", "Reported to the community"),
    "ack_note.turned_away": ("已劝返", "Turned away"),
    "ack_note.checked_on_site": ("已查看现场", "Checked on site"),
    "ack_note.false_alarm": ("误报", "False alarm"),
    "ack_note.repair_requested": ("已报修", "Repair requested"),
    "ack_note.told_property": ("已报告物业", "Reported to property management"),
    "ack_note.told_office": ("已报告社区办公室", "Reported to the community office"),
}
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
_DETAILS = {
    "detail.open_at": ("已连接，{baud} 波特", "open at {baud} baud"),
    "detail.stopped": ("已停止", "stopped"),
    "detail.cannot_open": ("无法打开 {what}：{error}", "cannot open {what}: {error}"),
    "detail.read_failed": ("读取失败：{error}", "read failed: {error}"),
    "detail.write_failed": ("写入失败：{error}", "write failed: {error}"),
    "detail.internal_error": ("内部错误：{error}", "internal error: {error}"),
    "detail.last_frame": ("最近一帧有误：{fault}", "last frame: {fault}"),
    "detail.configuration": ("设置有误：{failure}", "configuration: {failure}"),
    "detail.no_frame_reopening": (
        "{s} 秒无画面，正在重新打开",
        "no frame for {s} s; reopening",
    ),
    "detail.no_frame": ("{s} 秒无画面", "no frame for {s} s"),
    "detail.door_closed": ("门已关", "closed"),
    "detail.door_open": ("门开着", "open"),
    "detail.door_held_open": ("门长时间未关", "held open"),
    "detail.door_open_longer": ("门开启超过 {s} 秒", "open longer than {s} s"),
    "detail.worker_died": ("通道程序已停止", "worker died"),
    "detail.entry_unsaved": ("记录未保存", "entry unsaved"),
    "detail.fever": (
        "{holder}住户 {unit}；体温 {readings} °C",
        "{holder}household {unit}; {readings} °C",
    ),
    "detail.unknown_unit": ("未知", "unknown"),
    "detail.holder_separator": ("，", ", "),
}
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

_HEALTH = {
    "health.ok": ("正常", "ok"),
    "health.degraded": ("异常", "degraded"),
    "health.down": ("离线", "down"),
}

_TRUST_ACTIONS = {
    "trust_action.added": ("新增", "added"),
    "trust_action.replaced": ("替换", "replaced"),
    "trust_action.moved": ("来源变更", "moved"),
    "trust_action.retired": ("停用", "retired"),
    "trust_action.revoked": ("吊销", "revoked"),
}

_SIM_CASES = {
    "sim_case.resident": ("居民通行证", "Resident pass"),
    "sim_case.temporary": ("临时通行证", "Temporary pass"),
    "sim_case.expired": ("过期通行证", "Expired pass"),
    "sim_case.forged": ("伪造通行证", "Forged pass"),
}

# ------------------------------------------------------------------ the pages

_LAYOUT = {
    "brand": ("卡口 Kakou", "卡口 Kakou"),  # the product's name, both ways in both languages
    "nav.live": ("实时", "Live"),
    "nav.log": ("记录", "Log"),
    "nav.report": ("日报", "Report"),
    "nav.visitors": ("访客车辆", "Visitors"),
    "nav.status": ("状态", "Status"),
    "nav.kiosk": ("居民屏", "Kiosk"),
    "nav.accounts": ("账户", "Accounts"),
    "nav.audit": ("审计", "Audit"),
    "nav.signed_in": ("已登录", "signed in"),
    "nav.sign_out": ("退出", "Sign out"),
    "nav.sign_in": ("登录", "Sign in"),
    "nav.other_language": ("English", "中文"),  # the switch names the language it goes to
    "nav.sunlight": ("日光", "Sunlight"),
    "nav.sunlight_hint": ("日光下更易读", "Easier to read in sunlight"),
    "lane": ("通道", "Lane"),
    "none": ("—", "—"),
    "unknown": ("未知", "unknown"),
}

_LOGIN = {
    "login.title": ("值守人员登录", "Guard sign-in"),
    "login.name": ("姓名", "Name"),
    "login.secret": ("密码或PIN", "PIN or password"),
    "login.submit": ("登录", "Sign in"),
}

_LIVE = {
    "live.handheld": ("手持测温 °C", "Handheld °C"),
    "live.submit_reading": ("提交体温", "Submit reading"),
    "live.override_reason": ("人工放行原因（必填）", "Override reason (required)"),
    "live.override": ("人工放行", "Override"),
    "live.cancel": ("取消本次", "Cancel visit"),
    "live.take_duty": ("接班", "Take the shift"),
    "live.sim": ("模拟（无硬件时使用）", "Simulation (no hardware)"),
    "live.sim_temperature": ("设定下次体温", "Set next temperature"),
    "live.sim_scan": ("扫描此码", "Scan this code"),
    "live.sim_crowd": ("模拟人流", "Start a crowd"),
}

_LOG = {
    "log.title": ("出入记录", "Entry log"),
    "log.day": ("日期", "Day"),
    "log.decision": ("结果", "Decision"),
    "log.household": ("住户", "Household"),
    "log.pass_id": ("通行证号", "Pass id"),
    "log.search": ("查询", "Search"),
    "log.export": ("导出", "Export"),
    "log.older": ("更早", "Older"),
    # The exports are the paper forms' own names: Chinese in either language.
    "log.export_register": ("登记表", "登记表"),
    "log.export_fever": ("发热台账", "发热台账"),
    # The columns: in Chinese the register's own headings (ledgers.REGISTER_HEADINGS).
    "log.col.seq": ("序号", "Seq"),
    "log.col.time": ("时间", "Time"),
    "log.col.lane": ("通道", "Lane"),
    "log.col.direction": ("方向", "Dir"),
    "log.col.pass": ("通行证号", "Pass"),
    "log.col.kind": ("类别", "Kind"),
    "log.col.name": ("姓名", "Name"),
    "log.col.household": ("住户", "Household"),
    "log.col.temperature": ("体温(°C)", "Temp °C"),
    "log.col.answers": ("问询", "Answers"),
    "log.col.decision": ("结果", "Decision"),
    "log.col.reasons": ("原因", "Reasons"),
    "log.col.guard": ("值守人员", "Guard"),
    "log.col.note": ("备注", "Note"),
}
LOG_COLUMNS: tuple[str, ...] = tuple(key for key in _LOG if key.startswith("log.col."))
"""The log table's headings, in the order ``ledgers.register_row`` gives the cells."""

_REPORT = {
    "report.title": ("卡口日报", "Daily report"),
    "report.show": ("查看", "Show"),
    "report.chart": ("每小时通行人次", "Entries per hour"),
}

_SHIFT = {
    # The log's and the report's search: a value the search cannot take, said at its field.
    "search.bad_day": ("不是有效日期：请选择日期或留空", "Not a date: pick one or leave it empty"),
    "search.bad_outcome": (
        "没有这种结果：请从列表中选择或留空",
        "No such decision: pick one from the list or leave it empty",
    ),
    "search.too_long": ("内容过长", "Too long"),
    "search.bad_page": ("翻页链接无效，请重新查询", "That page link is broken: search again"),
    "page.bad_request": ("地址有误", "This address has a problem"),
    "page.bad_request_hint": (
        "地址里的参数无法识别，可能是旧链接或被改动过。",
        "Something in the address cannot be read: an old or edited link.",
    ),
    "page.bad_request_back": ("返回", "Go back"),
    "page.too_large": ("内容太大", "Too large to send"),
    "page.too_large_hint": (
        "一次最多可以提交 {size}，未做任何更改。",
        "At most {size} can be sent at once; nothing was changed.",
    ),
    # Gate modes: the live view's control and the banner every page shows while one is on.
    "gate_mode.title": ("卡口模式", "Gate mode"),
    "gate_mode.now": ("当前：{mode}", "Now: {mode}"),
    "gate_mode.to.lockdown": ("启动封控", "Start lockdown"),
    "gate_mode.to.emergency": ("紧急放行", "Emergency free exit"),
    "gate_mode.to.normal": ("恢复正常", "Back to normal"),
    "gate_mode.confirm.lockdown": (
        "封控：只有工作人员通行证能通过，居民和访客一律拒绝。",
        "Lockdown: only staff passes go through; residents and visitors are refused.",
    ),
    "gate_mode.confirm.emergency": (
        "紧急放行：闸门保持常开，任何人不查证、不测温即可通过，直到恢复正常。",
        "Emergency free exit: the gate is held open, nobody is checked or measured, until "
        "it is set back to normal.",
    ),
    "gate_mode.confirm.normal": (
        "恢复正常：查证、问询、测温后放行。",
        "Back to normal: passes checked, questions asked, temperatures measured.",
    ),
    "gate_mode.reason": ("原因（必填，记入台账）", "Reason (required, logged)"),
    "gate_mode.send": ("确认切换", "Confirm"),
    "gate_mode.cancel": ("取消", "Cancel"),
    "gate_mode.admin_only": (
        "封控只能由管理员启动或解除",
        "Only an admin starts or ends a lockdown",
    ),
    "gate_mode.banner": ("通道 {lane}：{mode}", "Lane {lane}: {mode}"),
    "gate_mode.banner.lockdown": ("仅工作人员可通行", "staff passes only"),
    "gate_mode.banner.emergency": ("闸门常开，不查证不测温", "gate held open, nobody checked"),
    "gate_mode.banner.by": ("{guard} {at} 启动，原因：{reason}", "{guard} at {at}: {reason}"),
    "js.mode.needs_reason": ("请写明原因", "Write the reason"),
    "js.mode.done": ("卡口模式已切换", "Gate mode changed"),
    "js.mode.refused": ("未能切换：", "Not changed: "),
    # The alarm board: counted by kind, grouped by lane and kind, a group handled with one note.
    "js.alarm.board": ("未处置警报", "Open alarms"),
    "js.alarm.count": ("{count} 条", "{count}"),
    "js.alarm.ack_group": ("全部处置（{count}）", "Acknowledge all ({count})"),
    "js.alarm.group_note": (
        "一条处置情况，记入这 {count} 条警报",
        "One note, for each of these {count} alarms",
    ),
    "js.alarm.show_list": ("展开", "Show"),
    "js.alarm.group_done": ("已处置 {count} 条警报", "{count} alarms acknowledged"),
}

_STATUS = {
    "status.title": ("系统状态", "Status"),
    "status.open_alarms": ("未处置警报", "Open alarms"),
    "status.no_open_alarms": ("无未处置警报", "No open alarms"),
    "status.alarm_lane": ("通道", "lane"),
    "status.storage": ("存储", "Storage"),
    "status.integrity": ("数据库完整性", "Store integrity"),
    "status.entries_stored": ("已存记录", "Entries stored"),
    "status.last_seq": ("最后序号", "Last seq"),
    "status.db_size": ("数据库大小", "Database size"),
    "status.disk_free": ("磁盘剩余", "Free disk"),
    "status.sync": ("同步", "Sync"),
    "status.state": ("状态", "State"),
    "status.connected": ("已连接", "connected"),
    "status.not_connected": ("未连接", "not connected"),
    "status.sync_off": ("同步未启用（记录留在本机待发）", "sync off (entries wait on the gate)"),
    "status.backlog": ("待确认记录", "Backlog"),
    "status.last_ack": ("最后确认", "Last acknowledgement"),
    "status.seq": ("序号", "seq"),
    "status.last_error": ("最后错误", "Last error"),
    "status.clock": ("时钟", "Clock"),
    "status.ntp": ("网络校时", "NTP"),
    "status.synced": ("已同步", "synced"),
    "status.not_synced": ("未同步", "not synced"),
    "status.offset": ("与社区服务器偏差", "Offset to the receiver"),
    "status.last_trusted": ("最后可信时间", "Last trusted time"),
    "status.lanes": ("通道", "Lanes"),
    "status.step": ("步骤", "Step"),
    "status.mode": ("模式", "Mode"),
    "status.alive": ("运行", "Alive"),
    "status.unsaved": ("未保存", "Unsaved"),
    "status.devices": ("设备", "Devices"),
    "status.device": ("设备", "Device"),
    "status.health": ("状态", "Health"),
    "status.detail": ("说明", "Detail"),
    "status.last_reading": ("最后读数", "Last reading"),
    "status.last_frame": ("最后通信", "Last frame"),
    "status.trusted_keys": ("信任的签发密钥", "Trusted keys"),
    "status.key": ("密钥", "Key"),
    "status.source": ("来源", "Source"),
    "status.fingerprint": ("指纹", "Fingerprint"),
    "status.added": ("加入时间", "Added"),
    "status.key_revoked": ("已吊销", "revoked"),
    "status.key_trusted": ("有效", "trusted"),
    "status.trust_changes": ("信任变更记录", "Changes of trust"),
    "status.time": ("时间", "Time"),
    "status.change": ("变更", "Change"),
}

_VISITORS = {
    "visitors.title": ("访客车辆", "Visitors"),
    "visitors.off": ("访客登记已关闭", "Visitor registration is off"),
    "visitors.register_visitor": ("访客登记", "Register a visitor"),
    "visitors.present_now": ("访客在卡口，立即核验", "Visitor is at the gate: check now"),
    "visitors.issue": ("登记并发放通行证", "Register and issue pass"),
    "visitors.register_vehicle": ("车辆登记", "Register a vehicle"),
    "visitors.plate": ("车牌号", "Plate"),
    "visitors.plate_example": ("京A12345", "京A12345"),
    "visitors.occupants": (
        "车内人员（司机在前，每人测温）",
        "People in the vehicle (driver first, each measured)",
    ),
    "visitors.add_occupant": ("＋ 添加乘员", "+ Add occupant"),
    "visitors.measure_at_lane": ("登记并送至通道测温", "Register and measure at the lane"),
    "visitors.recent": ("最近登记", "Recent registrations"),
    "visitors.host_household": ("被访住户（楼-单元-室）", "Host household"),
    "visitors.reason": ("来访事由", "Reason"),
    "visitors.hours": ("有效时长（小时，最长 {max}）", "Valid for (hours, at most {max})"),
    "visitors.name": ("姓名", "Name"),
    "visitors.phone": ("手机号", "Phone"),
    "visitors.id_number": ("身份证号", "ID card number"),
    "visitors.col.registered": ("登记时间", "Registered"),
    "visitors.col.kind": ("类别", "Kind"),
    "visitors.col.plate": ("车牌", "Plate"),
    "visitors.col.name": ("姓名", "Name"),
    "visitors.col.phone": ("手机号", "Phone"),
    "visitors.col.id_number": ("身份证号", "ID card"),
    "visitors.col.household": ("被访住户", "Household"),
    "visitors.col.reason": ("事由", "Reason"),
    "visitors.col.valid_until": ("有效至", "Valid until"),
    "visitors.revoked": ("已作废", "revoked"),
    # Suggestions for the reason field: what the visitor's record says, so Chinese either way.
    "visit_reason.family": ("探亲访友", "探亲访友"),
    "visit_reason.delivery": ("快递外卖", "快递外卖"),
    "visit_reason.repair": ("维修施工", "维修施工"),
    "visit_reason.housekeeping": ("家政服务", "家政服务"),
    "visit_reason.medical": ("看病就医", "看病就医"),
    "visit_reason.other": ("其他", "其他"),
    "pass.title": ("通行证", "Pass"),
    "pass.vehicle": ("车辆通行证", "Vehicle pass"),
    "pass.visitor": ("访客通行证", "Visitor pass"),
    "pass.revoked": ("此通行证已作废", "This pass is revoked"),
    "pass.qr": ("通行证二维码", "Pass QR code"),
    "pass.household": ("被访住户", "Household"),
    "pass.reason": ("事由", "Reason"),
    "pass.valid": ("有效期", "Valid"),
    "pass.pass_id": ("通行证号", "Pass id"),
    "pass.hint": (
        "请在卡口扫描此二维码，或截图保存。",
        "Scan this code at the gate, or keep a screenshot.",
    ),
    "pass.print": ("打印", "Print"),
    "pass.present": ("送至通道核验", "Check at the lane"),
    "pass.revoke_reason": ("作废原因", "Reason to revoke"),
    "pass.revoke": ("作废通行证", "Revoke pass"),
    "pass.back": ("返回登记", "Back to registration"),
}

_ACCOUNTS = {
    "accounts.title": ("值守账户", "Guard accounts"),
    "accounts.my_secret": ("修改我的密码或PIN", "Change my PIN or password"),
    "accounts.old_secret": ("原密码或PIN", "Current PIN or password"),
    "accounts.new_secret": ("新密码或PIN", "New PIN or password"),
    "accounts.again": ("再输入一次", "Once more"),
    "accounts.change": ("修改", "Change"),
    "accounts.rules": (
        "值守人员至少6位，管理员至少10位",
        "A guard's at least 6 characters, an admin's at least 10",
    ),
    "accounts.add": ("新增账户", "Add an account"),
    "accounts.name": ("姓名", "Name"),
    "accounts.role": ("角色", "Role"),
    "accounts.state": ("状态", "State"),
    "accounts.actions": ("操作", "Actions"),
    "accounts.disable": ("停用", "Disable"),
    "accounts.enable": ("启用", "Enable"),
    "accounts.remove": ("删除", "Remove"),
    "accounts.reset": ("重置密码", "Reset PIN"),
    "accounts.audit_of": ("审计记录", "Audit"),
    "role.guard": ("值守人员", "Guard"),
    "role.admin": ("管理员", "Admin"),
    "account_state.active": ("启用", "Active"),
    "account_state.disabled": ("已停用", "Disabled"),
    "account_state.removed": ("已删除", "Removed"),
    "audit.title": ("审计日志", "Audit log"),
    "audit.guard": ("账户", "Account"),
    "audit.action": ("操作", "Action"),
    "audit.day": ("日期", "Day"),
    "audit.search": ("查询", "Search"),
    "audit.col.at": ("时间", "Time"),
    "audit.col.who": ("操作人", "By"),
    "audit.col.action": ("操作", "Action"),
    "audit.col.lane": ("通道", "Lane"),
    "audit.col.detail": ("详情", "Detail"),
    "audit.older": ("更早", "Older"),
    "audit.empty": ("没有符合条件的记录", "Nothing matches"),
    # What the audit log stores (GuardBook.audit callers); an unknown action shows as its code.
    "audit_action.guard_added": ("新增账户", "Account added"),
    "audit_action.guard_created": ("管理员新增账户", "Account added by an admin"),
    "audit_action.guard_disabled": ("停用账户", "Account disabled"),
    "audit_action.guard_enabled": ("启用账户", "Account enabled"),
    "audit_action.guard_removed": ("删除账户", "Account removed"),
    "audit_action.secret_reset": ("重置密码", "PIN reset"),
    "audit_action.secret_changed": ("修改本人密码", "Own PIN changed"),
    "audit_action.signed_in": ("登录", "Signed in"),
    "audit_action.signed_out": ("退出", "Signed out"),
    "audit_action.sign_in_failed": ("登录失败", "Sign-in failed"),
    "audit_action.hand_over": ("接班", "Shift taken"),
    "audit_action.answers": ("代答问询", "Answers given"),
    "audit_action.occupants": ("更改车内人数", "Occupants counted"),
    "audit_action.manual_reading": ("手持测温", "Handheld reading"),
    "audit_action.override": ("人工放行", "Override"),
    "audit_action.cancel": ("取消本次", "Visit cancelled"),
    "audit_action.mode": ("更改卡口模式", "Gate mode changed"),
    "audit_action.export": ("导出台账", "Ledger exported"),
    "audit_action.alarm_ack": ("处置警报", "Alarm acknowledged"),
    "audit_action.visitor_registered": ("登记访客", "Visitor registered"),
    "audit_action.vehicle_registered": ("登记车辆", "Vehicle registered"),
    "audit_action.pass_presented": ("送至通道核验", "Pass sent to the lane"),
    "audit_action.pass_revoked": ("作废通行证", "Pass revoked"),
    "audit_key.guard": ("账户", "account"),
    "audit_key.name": ("姓名", "name"),
    "audit_key.code": ("原因", "why"),
    "audit_key.relieved": ("交班人", "relieved"),
    "audit_key.note": ("备注", "note"),
    "audit_key.reason": ("原因", "reason"),
    "audit_key.mode": ("模式", "mode"),
    "audit_key.count": ("人数", "count"),
    "audit_key.body_c": ("体温°C", "°C"),
    "audit_key.answers": ("回答", "answers"),
    "audit_key.registration": ("登记号", "registration"),
    "audit_key.pass_id": ("通行证号", "pass"),
    "audit_key.people": ("人数", "people"),
    "audit_key.ledger": ("台账", "ledger"),
    "audit_key.filters": ("条件", "filters"),
    "audit_key.alarm": ("警报", "alarm"),
    "audit_code.unknown": ("无此账户", "no such account"),
    "audit_code.wrong_secret": ("密码错误", "wrong PIN"),
    "audit_code.locked": ("账户已锁定", "account locked"),
}

# ------------------------------------------------------------------ the scripts' own words

_SCRIPT = {
    "js.signin.too_many": ("失败次数过多，请稍后再试", "Too many failures; try again later"),
    "js.signin.busy": ("系统繁忙，请稍后再试", "Busy; try again in a moment"),
    "js.signin.wrong": ("姓名或密码错误", "Wrong name or PIN"),
    "js.accounts.mismatch": ("两次输入的新密码不一致", "The new PIN differs the second time"),
    "js.accounts.weak": (
        "太短：值守人员至少6位，管理员至少10位",
        "Too short: a guard's at least 6 characters, an admin's at least 10",
    ),
    "js.accounts.wrong_old": ("原密码不正确", "The current PIN is wrong"),
    "js.accounts.changed": ("已修改，其他设备上的登录已退出", "Changed; other devices signed out"),
    "js.accounts.done": ("已保存", "Saved"),
    "js.accounts.refused": ("未能保存：", "Not saved: "),
    "js.accounts.new_secret_for": ("{name} 的新密码或PIN", "New PIN or password for {name}"),
    "js.accounts.confirm_remove": (
        "删除 {name} 的账户？此操作不能撤销（记录中仍保留姓名）",
        "Remove {name}'s account? This cannot be undone (the records keep the name)",
    ),
    "js.accounts.confirm_disable": ("停用 {name} 的账户？", "Disable {name}'s account?"),
    "js.lane": ("通道", "lane"),
    "js.whole_gate": ("全站", "whole gate"),
    "js.alarm.ack": ("已处置", "Acknowledge"),
    "js.alarm.note_required": ("处置情况（必填）", "What was done (required)"),
    "js.alarm.note_optional": ("处置情况（可不填）", "What was done (optional)"),
    "js.alarm.confirm": ("确认处置", "Confirm"),
    "js.alarm.cancel": ("取消", "Cancel"),
    "js.alarm.fever_needs_note": (
        "发热警报须写明处置情况，如已复测、已上报社区",
        "A fever needs a note of what was done: re-measured, reported…",
    ),
    "js.alarm.note_too_long": ("处置情况最多 {max} 字", "At most {max} characters"),
    "js.alarm.handled": ("最近处置的警报", "Recently handled alarms"),
    "js.alarm.no_note": ("（未写处置情况）", "(no note)"),
    "js.alarm.store_down": ("存储故障，暂不能记录处置", "The store cannot log it now"),
    "js.alarm.not_acked": ("未能记录处置：", "Not acknowledged: "),
    "js.visit.holder": ("持证人", "Holder"),
    "js.visit.kind": ("类别", "Kind"),
    "js.visit.household": ("住户", "Household"),
    "js.visit.plate": ("车牌", "Plate"),
    "js.visit.measured": ("已测/人数", "Measured"),
    "js.visit.one_fewer": ("减少一人", "One fewer"),
    "js.visit.one_more": ("增加一人", "One more"),
    "js.visit.temperature": ("体温", "Temperature"),
    "js.visit.waiting": ("等待扫码", "Waiting for a pass"),
    "js.answer.yes": ("是", "Yes"),
    "js.answer.no": ("否", "No"),
    "js.answers.send": ("提交回答", "Submit answers"),
    "js.answers.refused": ("回答未被接受：", "Answers refused: "),
    "js.duty.on_duty": ("当班：", "On duty: "),
    "js.duty.since": ("自", "since"),
    "js.duty.separator": ("，", ", "),
    "js.duty.nobody": ("无人接班", "nobody"),
    "js.duty.taken": ("已接班", "You are on duty"),
    "js.occupants.refused": ("人数未更改：", "Count not changed: "),
    "js.reading.range": ("请输入 30–45 之间的体温", "Enter 30–45 °C"),
    "js.reading.implausible": (
        "不是体温：测温仪读到的是环境或物体（需复测）",
        "Not a body temperature: the sensor read the surroundings (re-measure)",
    ),
    "js.reading.sent": ("体温已提交", "Reading sent"),
    "js.override.needs_reason": ("人工放行必须填写原因", "An override needs a written reason"),
    "js.override.done": ("已人工放行", "Overridden"),
    "js.override.refused": ("无法放行：", "Override refused: "),
    "js.sim.scanned": ("已扫描 ", "Scanned "),
    "js.sim.not_started": ("无法开始：", "Not started: "),
    "js.sim.crowd": (
        "人流 {recorded}/{total} 已记录，{matched} 符合预期",
        "Crowd: {recorded}/{total} recorded, {matched} as expected",
    ),
    "js.sim.mismatched": ("，{count} 不符", ", {count} mismatched"),
    "js.sim.done": (" ✔ 完成", " ✔ done"),
    # The kiosk shows both languages at once, Chinese above.
    "js.kiosk.show_pass": ("请出示通行证", "Please show your pass"),
    "js.kiosk.checking": ("请稍候，工作人员核验中", "Please wait, the guard is checking"),
    "js.kiosk.person_of": (
        "请第 {next} 位（共 {count} 位）测量体温",
        "Person {next} of {count}: please take your temperature",
    ),
    "js.kiosk.measure": ("请测量体温", "Please take your temperature"),
    "js.kiosk.remeasure": ("请稍候，需要复测体温", "Please wait to be measured again"),
    "js.kiosk.passed": ("体温正常，请通行", "Temperature normal, please pass"),
    "js.kiosk.pass": ("请通行", "Please pass"),
    "js.kiosk.fever": ("体温异常，请在旁等候", "Temperature high, please wait aside"),
    "js.kiosk.denied": ("禁止通行", "Entry refused"),
    "js.register.failed": ("登记失败", "Registration failed"),
    "js.register.correct_marked": ("请更正标红的项目", "Please correct the marked fields"),
    "js.register.remove_person": ("删除此人", "Remove"),
    "js.register.lane_refused": ("通道未接受：", "The lane refused: "),
    "js.register.confirm_revoke": ("确定作废此通行证？", "Revoke this pass?"),
    "js.register.outside_hours": (
        "注意：现在不在此类通行证的通行时段内，通道会拒绝。首次可用：",
        "Note: this pass is outside its hours now and the lane will refuse it. It first works at ",
    ),
    "js.register.never_in_hours": (
        "注意：此通行证的有效期全在通行时段之外，通道始终会拒绝。",
        "Note: this pass is valid only outside its hours; the lane will refuse it every time.",
    ),
    # The desk's problem codes (kakou.id_check…). The English console shows the API's own
    # message, which names the value; these are its Chinese.
    "js.problem.id_shape": (
        "身份证号应为18位：17位数字加一位数字或X",
        "An ID card number is 17 digits and a digit or X",
    ),
    "js.problem.id_province": (
        "身份证号前两位不是有效的省份代码",
        "The ID card number's first two digits are no province",
    ),
    "js.problem.id_birth": (
        "身份证号中的出生日期不存在",
        "The ID card number's birth date does not exist",
    ),
    "js.problem.id_check": (
        "身份证号校验位不符，请逐位核对",
        "The ID card number's check digit is wrong: compare digit by digit",
    ),
    "js.problem.id_required": ("请填写身份证号", "An ID card number is needed"),
    "js.problem.phone": (
        "请填写11位手机号，或带区号的固定电话",
        "An 11-digit mobile number, or a landline with its area code",
    ),
    "js.problem.phone_required": ("请填写手机号", "A phone number is needed"),
    "js.problem.plate": (
        "车牌号格式不对，如 京A12345、粤BD12345（不用字母I和O）",
        "A plate like 京A12345 or 粤BD12345 (no letters I or O)",
    ),
    "js.problem.household": ("被访住户应为1到32个字", "The household is 1 to 32 characters"),
    "js.problem.reason": ("来访事由应为1到100个字", "The reason is 1 to 100 characters"),
    "js.problem.hours": ("有效时长超出允许范围", "The hours are out of range"),
    "js.problem.name": ("姓名应为1到32个字", "A name is 1 to 32 characters"),
    "js.problem.people": ("车内人数超出范围", "Too many or too few people in the vehicle"),
    "js.problem.other": ("此项未填或格式不对", "Missing or not in the right form"),
}


CATALOGUE = merged(
    _STEPS,
    _OUTCOMES,
    _MODES,
    _DIRECTIONS,
    _KINDS,
    _REASONS,
    _ALARMS,
    _ACK_NOTES,
    _DETAILS,
    _HEALTH,
    _TRUST_ACTIONS,
    _SIM_CASES,
    _LAYOUT,
    _LOGIN,
    _LIVE,
    _LOG,
    _REPORT,
    _SHIFT,
    _STATUS,
    _VISITORS,
    _ACCOUNTS,
    _SCRIPT,
)
"""Message id → (Chinese, English)."""

SCRIPT_PREFIXES = ("js.", "step.", "mode.")
"""The ids the scripts read (console.js, registration.js); each page hands them these only."""


BOOK = Catalogue(CATALOGUE)
"""The look-ups below, and what the office's catalogue falls back to."""
words = BOOK.words
text = BOOK.text
term = BOOK.term
table = BOOK.table


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
