"""Every word the office console shows: one catalogue, Chinese first, then English.

A message id names a text (``"nav.gates"``); pages print it with the templates' ``t`` global,
Python with :func:`text`. Each feature keeps its words beside its code as a ``MESSAGES`` table
(id → (Chinese, English)) and adds it to :data:`SECTIONS` below, in a module that does not
import this one. An id given twice fails at import, so two features cannot quietly clash.

Codes the gates store (outcomes, reasons, alarm kinds, pass kinds, directions) and the words
both consoles say alike are the gate console's: :func:`text` and :func:`term` look an id up
here first, then in ``edge.console.messages``, so an entry reads the same at the gate and in the
office.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.console import messages as gate_messages
from edge.console.catalogue import Catalogue, merged
from sync.office import household_messages, reports

LANGS = ("zh", "en")

_LAYOUT = {
    "brand": ("卡口 · 社区办公室", "Kakou · Community office"),
    "nav.gates": ("总览", "Gates"),
    "nav.alerts": ("告警", "Alerts"),
    "nav.gaps": ("缺号", "Gaps"),
    "nav.households": ("住户", "Households"),
    "nav.passes": ("通行证", "Passes"),
    "nav.downlink": ("下发", "Downlink"),
    "nav.reports": ("报表", "Reports"),
    "nav.fever": ("发热台账", "Fever ledger"),
    "nav.register": ("出入登记", "Entry register"),
    "nav.notice": ("通知", "Notice"),
    "nav.menu": ("菜单", "Menu"),
    "page.bad_request": ("无法打开此页", "This page cannot be opened"),
    "page.bad_request_text": (
        "地址中的参数有误。请返回重试。",
        "Something in the address is not right. Go back and try again.",
    ),
    "page.forbidden": ("无权访问", "Not allowed"),
    "page.forbidden_text": (
        "您的账户无权查看此页或此社区。",
        "Your account may not see this page or this community.",
    ),
    "page.not_found": ("找不到此页", "Page not found"),
    "page.too_large": ("内容太大", "Too large to send"),
    "page.too_large_text": (
        "一次最多可以提交 {size}，未做任何更改。名册请拆分成几个文件分别导入。",
        "At most {size} can be sent at once; nothing was changed. Split a roster into several "
        "files and import each.",
    ),
    "page.back": ("返回", "Back"),
    "common.community": ("社区", "Community"),
    "common.all_communities": ("全部社区", "All communities"),
    "common.gate": ("卡口", "Gate"),
    "common.lane": ("通道", "Lane"),
    "common.time": ("时间", "Time"),
    "common.none": ("无", "None"),
    "common.show": ("查看", "Show"),
    "common.save": ("保存", "Save"),
    "common.more": ("更早的", "Older"),
    "common.never": ("从未", "never"),
    "common.s_ago": ("{n} 秒前", "{n} s ago"),
    "common.min_ago": ("{n} 分钟前", "{n} min ago"),
    "common.h_ago": ("{n} 小时前", "{n} h ago"),
    "common.d_ago": ("{n} 天前", "{n} days ago"),
}

_LOGIN = {
    "login.title": ("办公室登录", "Office sign-in"),
    "login.secret": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.wrong": ("姓名或密码错误", "Wrong name or password"),
    "login.locked": (
        "尝试次数过多，请 {minutes} 分钟后再试",
        "Too many tries: try again in {minutes} min",
    ),
    "login.busy": ("系统繁忙，请稍后再试", "Busy: try again in a moment"),
    "login.missing": ("请填写姓名和密码", "Enter your name and password"),
}

_GATES = {
    "gates.title": ("卡口总览", "Every gate at a glance"),
    "gates.none": ("尚无卡口上报。", "No gate has reported yet."),
    "gates.summary": (
        "{total} 个卡口，{problems} 个需要处理",
        "{total} gates, {problems} need attention",
    ),
    "gates.state": ("状态", "State"),
    "gates.backlog": ("积压", "Backlog"),
    "gates.last_entry": ("最近记录", "Last entry"),
    "gates.clock": ("时钟偏差", "Clock offset"),
    "gates.revocations": ("注销名单", "Revocation list"),
    "gates.alarms": ("设备告警", "Device alarms"),
    "gates.problems": ("问题", "Problems"),
    "gates.status_at": ("状态上报", "Status at"),
    "gates.version_age": ("第 {version} 版，{age}", "version {version}, {age}"),
    "gates.no_list": ("未收到", "none applied"),
    "gates.unsynced": ("未同步", "not synced"),
    "gates.seconds": ("{s} 秒", "{s} s"),
    "gates.fevers": ("发热 {n}", "fever {n}"),
    "gates.state.online": ("在线", "online"),
    "gates.state.offline": ("离线", "offline"),
    "gates.state.stale": ("无更新", "silent"),
    "gates.state.unknown": ("未上报状态", "no status"),
    "gates.problem.offline": ("离线", "offline"),
    "gates.problem.stale": ("超过5分钟无状态", "no status for 5 min"),
    "gates.problem.never_reported": ("从未上报状态", "never reported its status"),
    "gates.problem.fevers": ("有未处置的发热", "fever not acknowledged"),
    "gates.problem.alarms": ("设备告警", "device alarm"),
    "gates.problem.backlog": ("积压较多", "large backlog"),
    "gates.problem.clock": ("时钟不准", "clock off"),
    "gates.problem.revocations": ("注销名单未收到或过旧", "revocation list missing or old"),
    "gates.problem.disk": ("磁盘将满", "disk nearly full"),
}

_ALERTS = {
    "alerts.title": ("实时告警", "Live alerts"),
    "alerts.none": ("没有告警。", "No alerts."),
    "alerts.open": ("未处置", "Open"),
    "alerts.all": ("全部", "All"),
    "alerts.kind": ("类型", "Kind"),
    "alerts.any_kind": ("全部类型", "Every kind"),
    "alerts.state": ("处置", "State"),
    "alerts.person": ("人员", "Person"),
    "alerts.household": ("住户", "Household"),
    "alerts.pass": ("通行证", "Pass"),
    "alerts.readings": ("体温", "Temperatures"),
    "alerts.detail": ("详情", "Detail"),
    "alerts.at": ("发生", "At"),
    "alerts.from_entry": ("（来自通行记录）", "(from the entry)"),
    "alerts.note": ("处置说明", "What was done"),
    "alerts.ack": ("确认处置", "Acknowledge"),
    "alerts.acked": ("{name} 于 {at} 处置：{note}", "{name} acknowledged at {at}: {note}"),
    "alerts.live": ("每2秒自动更新", "Updates every 2 s"),
    "alerts.problem.note": (
        "请填写处置说明（1到200字）",
        "Write what was done (1 to 200 characters)",
    ),
    "alerts.problem.already": ("此告警已被他人处置", "Someone acknowledged this alert already"),
    "alerts.problem.unknown": ("找不到此告警", "No such alert"),
    "alerts.done": ("已确认处置", "Acknowledged"),
    "alert_kind.fever": ("发热", "Fever"),
    "alert_kind.fever_unconfirmed": ("体温偏高未复测", "High temperature, not re-measured"),
    "alert_kind.door_forced": ("门被强行打开", "Door forced open"),
    "alert_kind.device_down": ("设备离线", "Device down"),
    "alert_kind.disk_filling": ("磁盘将满", "Disk filling up"),
    "alert_kind.lane_down": ("通道程序停止", "Lane stopped"),
    "alert_kind.store_failed": ("记录保存失败", "Entry not saved"),
    "alert_kind.emergency": ("紧急放行模式", "Emergency free exit"),
    "alert_kind.other": ("其他", "Other"),
}

_GAPS = {
    "gaps.title": ("缺号", "Gaps"),
    "gaps.intro": (
        "每个卡口的记录按序号连续编号；这里列出已收到范围内缺少的序号，以及卡口已报告但尚未送达的序号。",
        "Every gate numbers its entries without gaps: here are the numbers missing inside what "
        "arrived, and those the gate reported but has not sent yet.",
    ),
    "gaps.none": (
        "没有缺号：所有卡口的记录完整。",
        "Nothing missing: every gate's entries are complete.",
    ),
    "gaps.log": ("日志", "Log"),
    "gaps.stored": ("已收到至", "Complete up to"),
    "gaps.max": ("最大序号", "Highest"),
    "gaps.missing": ("缺少", "Missing"),
    "gaps.unreceived": ("未送达", "Not yet received"),
    "gaps.count": ("共 {n} 条", "{n} in all"),
    "gaps.complete": ("完整", "complete"),
}

_ACCOUNTS = {
    "accounts.title": ("账户", "Accounts"),
    "accounts.name": ("姓名", "Name"),
    "accounts.communities": ("社区", "Communities"),
    "accounts.communities_hint": (
        "社区编号，用逗号分隔；* 表示全部社区",
        "Community ids, separated by commas; * for every community",
    ),
    "accounts.state": ("状态", "State"),
    "accounts.active": ("启用", "active"),
    "accounts.disabled": ("已停用", "disabled"),
    "accounts.secret": ("密码（至少10位）", "Password (10 characters or more)"),
    "accounts.reset": ("重设密码", "Reset password"),
    "accounts.new_secret": ("新密码", "New password"),
    "accounts.role.officer": ("工作人员", "officer"),
    "accounts.role.admin": ("管理员", "admin"),
    "accounts.all": ("全部社区", "every community"),
    "accounts.done.added": ("已新增 {name}", "Added {name}"),
    "accounts.done.disabled": ("已停用 {name}", "Disabled {name}"),
    "accounts.done.enabled": ("已启用 {name}", "Enabled {name}"),
    "accounts.done.reset": ("已为 {name} 重设密码", "New password set for {name}"),
    "accounts.problem.bad_name": ("姓名应为1到32个字", "A name is 1 to 32 characters"),
    "accounts.problem.weak_secret": ("密码至少10位", "A password needs 10 characters or more"),
    "accounts.problem.name_taken": ("已有同名账户", "There is already an account of that name"),
    "accounts.problem.no_community": ("请填写至少一个社区", "Name at least one community"),
    "accounts.problem.bad_community": ("社区编号格式不对", "Not a community id"),
    "accounts.problem.not_yours": (
        "只能管理您所辖社区的账户",
        "You may only manage accounts of your own communities",
    ),
    "accounts.problem.last_admin": ("至少保留一个启用的管理员", "Keep at least one active admin"),
    "accounts.problem.unknown": ("找不到此账户", "No such account"),
    "accounts.problem.role": ("请选择角色", "Choose a role"),
}

_AUDIT = {
    "audit.who": ("人员", "Who"),
    "audit.any_action": ("全部操作", "Every action"),
    "audit.detail": ("内容", "Detail"),
    "audit.none": ("没有记录。", "Nothing recorded."),
    "audit.command_line": ("命令行", "command line"),
    "action.signed_in": ("登录", "signed in"),
    "action.signed_out": ("退出", "signed out"),
    "action.sign_in_failed": ("登录失败", "sign-in failed"),
    "action.officer_added": ("新增账户", "account added"),
    "action.officer_disabled": ("停用账户", "account disabled"),
    "action.officer_enabled": ("启用账户", "account enabled"),
    "action.secret_reset": ("重设密码", "password reset"),
    "action.alert_acknowledged": ("处置告警", "alert acknowledged"),
    "action.roster.import": ("导入住户名册", "roster imported"),
    "action.pass.issue": ("签发通行证", "passes issued"),
    "action.pass.revoke": ("吊销通行证", "passes revoked"),
    "action.pass.print": ("打印通行证", "passes printed"),
    "action.downlink.revocations": ("下发吊销名单", "revocation list sent"),
    "action.downlink.keys": ("下发密钥", "keys sent"),
    "action.downlink.policy": ("下发策略", "policy sent"),
    "action.downlink.revocations.failed": ("吊销名单下发失败", "revocation list not sent"),
    "action.downlink.keys.failed": ("密钥下发失败", "keys not sent"),
    "action.downlink.policy.failed": ("策略下发失败", "policy not sent"),
    "action.register_searched": ("查询出入登记", "entry register searched"),
    "action.register_exported": ("导出出入登记", "entry register exported"),
}

_CORE = merged(_LAYOUT, _LOGIN, _GATES, _ALERTS, _GAPS, _ACCOUNTS, _AUDIT)

SECTIONS: list[Mapping[str, tuple[str, str]]] = [
    _CORE,
    household_messages.MESSAGES,
    reports.MESSAGES,
]
"""The catalogue's tables: the core's, then one line per feature (its ``MESSAGES``)."""


CATALOGUE = merged(*SECTIONS)
"""Message id → (Chinese, English): the office's own words."""

BOOK = Catalogue(CATALOGUE, fallback=gate_messages.BOOK)
"""The office's words first, then the gate console's (shared terms: outcomes, reasons, pass
kinds, directions, and the words both consoles say alike)."""
words = BOOK.words
text = BOOK.text
term = BOOK.term
