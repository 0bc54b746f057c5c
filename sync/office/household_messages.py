"""The words of the households, passes and downlink pages (Chinese, English), registered in
``sync.office.messages.SECTIONS``. Roster problems are ``roster.<code>`` with ``{line}`` and
``{detail}`` (the column, never the cell's value)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # households
    "households.title": ("住户", "Households"),
    "households.import": ("导入住户名册", "Import the household roster"),
    "households.import_help": (
        "CSV（UTF-8 或 GBK）或 XLSX，第一行为列名：房号、楼栋、网格、小区、姓名、手机、身份证号"
        "（或 unit, building, grid, compound, name, phone, id_number）。每位居民一行；"
        "再次导入会更新而不会重复，空白单元格不会清除已有内容。",
        "CSV (UTF-8 or GBK) or XLSX, the first line naming the columns: unit, building, grid, "
        "compound, name, phone, id_number (or their Chinese names). One resident a line; "
        "importing again updates rather than duplicates, and an empty cell never erases.",
    ),
    "households.file": ("名册文件", "Roster file"),
    "households.upload": ("导入", "Import"),
    "households.too_big": (
        "文件太大：最多 {mb} MB。请拆分后再导入。",
        "The file is too large: at most {mb} MB. Split it and import the parts.",
    ),
    "households.no_file": ("请选择名册文件", "Choose a roster file"),
    "households.rejected": (
        "名册有 {n} 处问题，未导入任何内容。请修改后重新导入：",
        "The roster has {n} problem(s); nothing was imported. Fix them and import again:",
    ),
    "households.more_problems": ("另有 {n} 处问题未列出", "and {n} more problem(s) not listed"),
    "households.imported": (
        "已导入：新增 {ha} 户、更新 {hu} 户；新增居民 {ra} 人、更新 {ru} 人；{same} 项无变化。",
        "Imported: {ha} household(s) added, {hu} updated; {ra} resident(s) added, {ru} updated; "
        "{same} unchanged.",
    ),
    "households.search": ("查找（房号、楼栋、姓名）", "Search (unit, building, name)"),
    "households.find": ("查找", "Find"),
    "households.count": ("{h} 户，{r} 位居民", "{h} households, {r} residents"),
    "households.none": ("没有符合的住户", "No household matches"),
    "households.unit": ("房号", "Unit"),
    "households.building": ("楼栋", "Building"),
    "households.grid": ("网格", "Grid"),
    "households.compound": ("小区", "Compound"),
    "households.residents": ("居民", "Residents"),
    "households.name": ("姓名", "Name"),
    "households.phone": ("手机", "Phone"),
    "households.id_number": ("身份证号", "ID number"),
    "households.detail": ("住户 {unit}", "Household {unit}"),
    "households.not_found": ("找不到此住户", "No such household"),
    # roster problems
    "roster.line": ("第 {line} 行：", "Line {line}: "),
    "roster.empty": ("文件为空，或只有列名", "the file is empty, or has only the headings"),
    "roster.too_large": ("文件太大（{detail}）", "the file is too large ({detail})"),
    "roster.old_excel": (
        "这是旧版 Excel（.xls）文件：请另存为 .xlsx 或 CSV",
        "an old Excel (.xls) file: save it as .xlsx or CSV",
    ),
    "roster.encoding": (
        "文件既不是 UTF-8 也不是 GBK 文本：请另存为“CSV UTF-8”",
        'the file is neither UTF-8 nor GBK text: save it as "CSV UTF-8"',
    ),
    "roster.not_csv": ("无法按 CSV 读取（{detail}）", "not readable as CSV ({detail})"),
    "roster.not_xlsx": ("无法按 XLSX 读取（{detail}）", "not readable as XLSX ({detail})"),
    "roster.formula": (
        "{detail} 列的内容像表格公式（以 = + - @ 开头），不予导入",
        "the {detail} cell looks like a spreadsheet formula (starts with = + - @); refused",
    ),
    "roster.too_many_rows": ("行数超过上限 {detail}", "more rows than the limit of {detail}"),
    "roster.too_many_cells": ("单元格多于列名（{detail}）", "more cells than headings ({detail})"),
    "roster.household_differs": (
        "同一房号的 {detail} 与前面不同",
        "the household's {detail} differs from the earlier",
    ),
    "roster.resident_twice": (
        "同一住户同名居民重复（{detail}）",
        "the same resident again ({detail})",
    ),
    "roster.unknown_column": ("未知列名“{detail}”", 'unknown column "{detail}"'),
    "roster.column_twice": ("列 {detail} 出现两次", "column {detail} appears twice"),
    "roster.missing_column": ("缺少列 {detail}", "missing column {detail}"),
    "roster.bad_text": (
        "{detail} 含控制字符或过长",
        "{detail} holds control characters or is too long",
    ),
    "roster.unit_empty": ("房号为空", "the unit is empty"),
    "roster.bad_unit": (
        "房号须为 1–32 个可打印字符",
        "the unit must be 1 to 32 printable characters",
    ),
    "roster.name_empty": ("有手机或身份证号但没有姓名", "a phone or ID number without a name"),
    "roster.bad_phone": (
        "手机号应为 11 位手机号或带区号的固定电话",
        "the phone must be an 11-digit mobile or a landline with its area code",
    ),
    "roster.id_shape": (
        "身份证号应为 17 位数字加一位数字或 X（若以数字保存会丢失末位，请设为文本）",
        "the ID number must be 17 digits and a digit or X (store it as text, not a number)",
    ),
    "roster.id_province": ("身份证号的地区码不存在", "the ID number's region code does not exist"),
    "roster.id_birth": ("身份证号中的出生日期不成立", "the ID number holds no real birth date"),
    "roster.id_check": (
        "身份证号校验位不对：有字符输错",
        "the ID number's check character is wrong: a character was mistyped",
    ),
    # passes
    "passes.title": ("通行证", "Passes"),
    "passes.pass_id": ("证号", "Pass id"),
    "passes.holder": ("持证人", "Holder"),
    "passes.kind": ("类别", "Kind"),
    "passes.valid": ("有效期", "Valid"),
    "passes.state": ("状态", "State"),
    "passes.issued_by": ("签发人", "Issued by"),
    "passes.state.valid": ("有效", "valid"),
    "passes.state.pending": ("未生效", "not yet valid"),
    "passes.state.expired": ("已过期", "expired"),
    "passes.state.revoked": ("已吊销", "revoked"),
    "passes.days": ("有效天数", "Days valid"),
    "passes.issue_household": ("为本户居民签发通行证", "Issue passes to this household"),
    "passes.issue_bulk": (
        "批量签发：为所有尚无有效通行证的居民签发",
        "Bulk issue: every resident without a good pass",
    ),
    "passes.issue": ("签发", "Issue"),
    "passes.revoke": ("吊销", "Revoke"),
    "passes.revoke_household": ("吊销本户全部通行证", "Revoke all of this household's passes"),
    "passes.pdf": ("下载打印版（PDF）", "Download the printable sheet (PDF)"),
    "passes.none": ("没有通行证", "No passes"),
    "passes.find": ("查找证号或房号", "Find a pass id or unit"),
    "passes.confirm_issue": (
        "确认为 {what} 签发 {n} 张通行证（{kind}，{days} 天）？",
        "Issue {n} pass(es) to {what} ({kind}, {days} days)?",
    ),
    "passes.confirm_revoke": (
        "确认吊销 {what}？吊销后将向所有卡口下发新的吊销名单，此操作不可撤销。",
        "Revoke {what}? The new revocation list goes to every gate; this cannot be undone.",
    ),
    "passes.confirm": ("确认", "Confirm"),
    "passes.cancel": ("取消", "Cancel"),
    "passes.nothing_to_issue": (
        "所有居民都已有有效通行证，无需签发",
        "Every resident already has a good pass: nothing to issue",
    ),
    "passes.issued": ("已签发 {n} 张通行证。", "{n} pass(es) issued."),
    "passes.revoked": ("已吊销 {n} 张通行证。", "{n} pass(es) revoked."),
    "passes.nothing_revoked": ("没有可吊销的有效通行证", "No unrevoked pass to revoke"),
    "passes.published": (
        "吊销名单第 {version} 版已下发至各卡口。",
        "Revocation list version {version} was sent to every gate.",
    ),
    "passes.not_published": (
        "吊销已记录，但名单未能下发（{reason}）。请在“下发”页重新下发。",
        "The revocation is recorded, but the list could not be sent ({reason}). Send it again "
        "from the Downlink page.",
    ),
    "passes.no_key": (
        "未配置办公室签名密钥（[office] signing_key、signing_kid），无法签发",
        "No office signing key is configured ([office] signing_key, signing_kid): cannot sign",
    ),
    "passes.bad_request": ("请求有误：{reason}", "Not possible: {reason}"),
    "passes.bad_days": ("有效天数须为 1–3660", "Days valid must be 1 to 3660"),
    # downlink
    "downlink.title": ("下发", "Downlink"),
    "downlink.kind": ("类型", "Kind"),
    "downlink.kind.revocations": ("吊销名单", "Revocation list"),
    "downlink.kind.keys": ("密钥", "Keys"),
    "downlink.kind.policy": ("策略", "Policy"),
    "downlink.published": ("最新下发版本", "Last version sent"),
    "downlink.issued_at": ("签发时间", "Signed at"),
    "downlink.gate_state": ("卡口状态", "Gate state"),
    "downlink.online": ("在线", "online"),
    "downlink.offline": ("离线", "offline"),
    "downlink.not_reported": ("未上报", "not reported"),
    "downlink.unknown": ("未知", "unknown"),
    "downlink.stale": ("{n} 个卡口未更新", "{n} gate(s) behind"),
    "downlink.no_gates": ("尚无卡口上报状态", "No gate has reported its status yet"),
    "downlink.pending": (
        "有吊销尚未送达卡口（或上次下发失败）。",
        "A revocation has not reached the gates yet (or the last sending failed).",
    ),
    "downlink.undelivered": (
        "第 {versions} 版已签发但未送达代理服务器",
        "version(s) {versions} were signed but never reached the broker",
    ),
    "downlink.republish": ("重新下发吊销名单", "Send the revocation list again"),
    "downlink.keys_title": ("密钥轮换（仅管理员）", "Key rotation (admins only)"),
    "downlink.keys_help": (
        "将密钥目录中的全部公钥下发为受信任的通行证密钥，并吊销下列密钥 ID（以空格或逗号分隔）。"
        "下发签名密钥本身须在各卡口由运维人员更换。",
        "Sends every public key in the key folder as a trusted pass key, and revokes the key "
        "ids below (separated by spaces or commas). The downlink signer itself is changed on "
        "each gate by its operator.",
    ),
    "downlink.key_folder": ("密钥目录中的公钥", "Public keys in the key folder"),
    "downlink.no_key_dir": ("未配置 [office] key_dir", "[office] key_dir is not configured"),
    "downlink.revoke_kids": ("要吊销的密钥 ID", "Key ids to revoke"),
    "downlink.publish_keys": ("下发密钥", "Send the keys"),
    "downlink.keys_sent": ("密钥第 {version} 版已下发。", "Keys version {version} sent."),
    "downlink.confirm_keys": (
        "确认下发 {n} 个受信任密钥，并吊销：{revoked}？",
        "Send {n} trusted key(s) and revoke: {revoked}?",
    ),
}
