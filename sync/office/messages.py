"""Every word the office console shows: one catalogue, Chinese first, then English.

A message id names a text (``"nav.gates"``); pages print it with the templates' ``t`` global,
Python with :func:`text`. Each feature keeps its words beside its code as a ``MESSAGES`` table
(id → (Chinese, English)) and adds it to :data:`SECTIONS` below, in a module that does not
import this one. An id given twice fails at import, so two features cannot quietly clash.

Codes the gates store (outcomes, reasons, alarm kinds, pass kinds, directions) are the gate
console's: :func:`term` looks them up here first, then in ``edge.console.messages``, so an
entry reads the same at the gate and in the office.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.console import messages as gate_messages
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
    "nav.accounts": ("账户", "Accounts"),
    "nav.audit": ("审计", "Audit"),
    "nav.sign_in": ("登录", "Sign in"),
    "nav.sign_out": ("退出", "Sign out"),
    "nav.other_language": ("English", "中文"),
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
    "login.name": ("姓名", "Name"),
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

_CORE = {**_LAYOUT, **_LOGIN}

SECTIONS: list[Mapping[str, tuple[str, str]]] = [
    _CORE,
    household_messages.MESSAGES,
    reports.MESSAGES,
]
"""The catalogue's tables: the core's, then one line per feature (its ``MESSAGES``)."""


def _merged(sections: list[Mapping[str, tuple[str, str]]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for section in sections:
        twice = merged.keys() & section.keys()
        if twice:
            raise ValueError(f"message ids given twice: {sorted(twice)}")
        merged.update(section)
    return merged


CATALOGUE = _merged(SECTIONS)
"""Message id → (Chinese, English)."""


def words(message_id: str) -> tuple[str, str]:
    """(Chinese, English); a ``KeyError`` names an id missing from the catalogue."""
    return CATALOGUE[message_id]


def text(lang: str, message_id: str, **params: object) -> str:
    """The message in ``lang`` ("en", else Chinese), its ``{name}`` fields filled."""
    zh, en = CATALOGUE[message_id]
    chosen = en if lang == "en" else zh
    return chosen.format_map(params) if params else chosen


def term(section: str, code: str | None, lang: str = "zh") -> str:
    """What a stored code means (``term("outcome", "fever")``): the office's words, else the
    gate console's, else the code itself; "" for none."""
    if code is None:
        return ""
    found = CATALOGUE.get(f"{section}.{code}")
    if found is not None:
        return found[1] if lang == "en" else found[0]
    return gate_messages.term(section, code, lang)
