"""Words the guard reads: step names, outcomes, reason codes and alarms, Chinese first.

Reason codes stay codes in the entry (evidence, stable across versions); the console says what
they mean in plain words. An unknown code is shown as itself rather than hidden.
"""

from __future__ import annotations

STEPS: dict[str, tuple[str, str]] = {
    "stop": ("停", "Stop"),
    "look": ("看", "Look"),
    "ask": ("问", "Ask"),
    "measure": ("测", "Measure"),
    "hold": ("复测", "Re-measure"),
    "pass": ("行", "Pass"),
}

OUTCOMES: dict[str, tuple[str, str]] = {
    "passed": ("通行", "Passed"),
    "denied": ("拒绝", "Denied"),
    "fever": ("发热", "Fever"),
    "abandoned": ("未完成", "Abandoned"),
    "overridden": ("人工放行", "Overridden"),
    "mode_change": ("模式变更", "Mode change"),
}

MODES: dict[str, tuple[str, str]] = {
    "normal": ("正常", "normal"),
    "lockdown": ("封控", "lockdown"),
    "emergency": ("紧急放行", "emergency"),
}

KINDS: dict[str, tuple[str, str]] = {
    "resident": ("居民", "Resident"),
    "visitor": ("访客", "Visitor"),
    "temporary": ("临时通行", "Temporary"),
    "staff": ("工作人员", "Staff"),
    "vehicle": ("车辆", "Vehicle"),
}

REASONS: dict[str, tuple[str, str]] = {
    "bad_encoding": ("通行码无法识别", "Code cannot be read"),
    "bad_structure": ("通行码格式错误", "Code is malformed"),
    "unknown_key": ("通行证签发方未知", "Unknown issuer"),
    "bad_signature": ("通行证签名无效（可能伪造）", "Invalid signature (possibly forged)"),
    "not_yet_valid": ("通行证尚未生效", "Pass not yet valid"),
    "expired": ("通行证已过期", "Pass expired"),
    "wrong_community": ("非本小区通行证", "Pass from another community"),
    "gate_not_allowed": ("此通行证不能走本卡口", "Pass not valid at this gate"),
    "revoked": ("通行证已被注销", "Pass revoked"),
    "key_scope": ("此通行证的签发权限不足", "Signed by a key not allowed to sign this pass"),
    "too_large": ("扫描内容过长", "Scan too large"),
    "clock_unsynced": ("时钟未同步，暂不核验通行证", "Clock not synchronised: no pass is judged"),
    "manual_reading": ("手持测温（人工录入）", "Handheld reading typed by the guard"),
    "answer_refused": ("问询回答不符合进入条件", "An answer refuses entry"),
    "answers_missing": ("问询未答完", "Questions not answered"),
    "anti_passback": ("重复进出（防回传）", "Anti-passback: already in/out"),
    "exit_quota_exceeded": ("本户外出次数已满", "Household exit quota used up"),
    "kind_gate_not_allowed": ("此类人员不能走本卡口", "This kind may not use this gate"),
    "kind_outside_hours": ("不在允许通行时段", "Outside permitted hours"),
    "fever": ("体温≥37.3°C，复测仍发热", "Fever confirmed on re-measure"),
    "fever_not_confirmed": ("首次体温偏高，复测正常", "High first reading, re-measure normal"),
    "fever_unconfirmed": ("首次体温偏高，未复测", "High reading not re-measured"),
    "guard_cancelled": ("值守人员取消", "Cancelled by the guard"),
    "timeout_ask": ("问询超时", "Timed out at ask"),
    "timeout_hold": ("复测超时", "Timed out waiting to re-measure"),
    "timeout_measure": ("测温超时", "Timed out at measure"),
    "emergency_free_exit": ("紧急疏散模式", "Emergency free exit"),
    "lockdown": ("封控期间禁止通行", "Lockdown: no entry"),
    "superseded": ("下一位已扫码", "Next person scanned"),
    "mode_changed": ("卡口模式已变更", "Gate mode changed"),
    "store_failed": ("记录未能及时保存，闸门未开启", "Entry not saved in time: gate did not open"),
    "decided_passed": ("原判定：通行", "The rule had decided: pass"),
    "decided_overridden": ("原判定：人工放行", "The guard had decided: let through"),
}

ALARMS: dict[str, tuple[str, str]] = {
    "fever": ("发热警报：请隔离复测并上报", "Fever: hold, re-measure, report"),
    "store_failed": ("记录保存失败：闸门保持关闭", "Entry not saved: gate kept shut"),
    "lane_down": ("通道程序停止：闸门已锁", "Lane worker stopped: gate locked"),
    "device_down": ("设备离线", "Device down"),
    "fever_unconfirmed": (
        "体温偏高且未复测：请追查并上报",
        "High temperature, not re-measured: follow up and report",
    ),
    "emergency": ("紧急放行模式：闸门常开", "Emergency free exit: gate held open"),
    "door_forced": ("门被强行打开", "Door forced open"),
    "door_held_open": ("门长时间未关", "Door held open"),
    "disk_filling": ("磁盘空间不足：请清理或更换存储", "Disk filling up: free space or replace it"),
    "sync_backlog": (
        "同步积压：记录未送达社区服务器",
        "Sync backlog: entries not reaching the community server",
    ),
    "downlink_refused": (
        "拒绝了一份社区下发的文件：请联系社区办公室核实",
        "A document from the office was refused: check with the community office",
    ),
}

# Quick picks for an acknowledgement's note, by alarm kind. The Chinese is what the note says
# (the ledger is kept in Chinese); the English tells a reader of the English console what it means.
_FEVER_NOTES = (
    ("已复测", "Re-measured"),
    ("已上报社区", "Reported to the community"),
    ("已劝返", "Turned away"),
)
_DOOR_NOTES = (("已查看现场", "Checked on site"), ("误报", "False alarm"))
_REPAIR_NOTES = (("已报修", "Repair requested"),)
ACK_NOTES: dict[str, tuple[tuple[str, str], ...]] = {
    "fever": _FEVER_NOTES,
    "fever_unconfirmed": _FEVER_NOTES,
    "door_forced": _DOOR_NOTES,
    "door_held_open": _DOOR_NOTES,
    "device_down": _REPAIR_NOTES,
    "lane_down": _REPAIR_NOTES,
    "store_failed": _REPAIR_NOTES,
    "disk_filling": _REPAIR_NOTES,
    "sync_backlog": (("已报告物业", "Reported to property management"),),
    "downlink_refused": (("已报告社区办公室", "Reported to the community office"),),
}


def zh(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, (code, code))[0]


def en(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, (code, code))[1]
