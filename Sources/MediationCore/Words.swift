import Foundation

/// The language a person reads: Chinese first, English when asked for.
public enum Language: String, Sendable, CaseIterable {
    case zh, en

    /// The first language of an `Accept-Language` header that we have (`en-GB,en;q=0.8` is English); Chinese when
    /// none is named or none is ours.
    public init(acceptLanguage header: String?) {
        let ranked = (header ?? "").split(separator: ",").compactMap { part -> (String, Double)? in
            let pieces = part.split(separator: ";").map { $0.trimmingWhitespace().lowercased() }
            guard let tag = pieces.first, !tag.isEmpty else { return nil }
            let q = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return (tag, q)
        }
        let best = ranked.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }.first { tag, _ in
            tag.hasPrefix("zh") || tag.hasPrefix("en")
        }
        self = best.map { $0.0.hasPrefix("en") ? .en : .zh } ?? .zh
    }
}

/// The one zh/en catalogue of the words people read for the product's own values: roles, statuses, risk levels,
/// categories, results. Pages (and later the API and the CLI) take their words from here, never from a copy.
///
/// For example:
/// ```swift
/// Words.risk(.high, .zh)             // "高"
/// Words.sessionStatus(.booked, .en)  // "booked"
/// ```
public enum Words {
    public static func role(_ role: Role, _ language: Language) -> String {
        switch (role, language) {
        case (.viewer, .zh): "查看"
        case (.staff, .zh): "工作人员"
        case (.admin, .zh): "管理员"
        case (.viewer, .en): "viewer"
        case (.staff, .en): "staff"
        case (.admin, .en): "admin"
        }
    }

    public static func risk(_ risk: RiskLevel, _ language: Language) -> String {
        switch (risk, language) {
        case (.low, .zh): "低"
        case (.medium, .zh): "中"
        case (.high, .zh): "高"
        case (.critical, .zh): "极高"
        case (_, .en): risk.rawValue
        }
    }

    /// An expert's role on a page: the roster's Chinese name, or a plain English one (not the wire code).
    public static func expertRole(_ role: ExpertRole, _ language: Language) -> String {
        switch (role, language) {
        case (_, .zh): role.chinese
        case (.legalOfficer, .en): "legal officer"
        case (.lawyer, .en): "lawyer"
        case (.retiree, .en): "retired cadre"
        case (.communityStaff, .en): "community staff"
        }
    }

    public static func side(_ side: PartySide, _ language: Language) -> String {
        switch (side, language) {
        case (.applicant, .zh): "申请人"
        case (.respondent, .zh): "被申请人"
        case (.other, .zh): "其他"
        case (.applicant, .en): "applicant"
        case (.respondent, .en): "respondent"
        case (.other, .en): "other"
        }
    }

    public static func followUpResult(_ result: FollowUpResult, _ language: Language) -> String {
        switch (result, language) {
        case (.stable, .zh): "稳定"
        case (.relapsed, .zh): "反复"
        case (.escalated, .zh): "升级"
        case (_, .en): result.rawValue
        }
    }

    public static func invitation(_ answer: Invitation, _ language: Language) -> String {
        switch (answer, language) {
        case (.pending, .zh): "待回复"
        case (.accepted, .zh): "已接受"
        case (.declined, .zh): "已谢绝"
        case (_, .en): answer.rawValue
        }
    }

    public static func sessionStatus(_ status: SessionStatus, _ language: Language) -> String {
        switch (status, language) {
        case (.booked, .zh): "已预约"
        case (.inSession, .zh): "进行中"
        case (.ended, .zh): "已结束"
        case (.noShow, .zh): "缺席"
        case (.cancelled, .zh): "已取消"
        case (.booked, .en): "booked"
        case (.inSession, .en): "in session"
        case (.ended, .en): "ended"
        case (.noShow, .en): "no-show"
        case (.cancelled, .en): "cancelled"
        }
    }

    public static func disputeStatus(_ status: DisputeStatus, _ language: Language) -> String {
        switch (status, language) {
        case (.open, .zh): "待调解"
        case (.scheduled, .zh): "已排期"
        case (.inSession, .zh): "调解中"
        case (.resolved, .zh): "已化解"
        case (.unresolved, .zh): "未化解"
        case (.referred, .zh): "已移交"
        case (.closed, .zh): "已结案"
        case (.inSession, .en): "in session"
        case (_, .en): status.rawValue
        }
    }

    public static func warningRule(_ rule: WarningRule, _ language: Language) -> String {
        language == .zh ? rule.chinese : rule.rawValue.replacingOccurrences(of: "_", with: " ")
    }

    public static func passwordProblem(_ problem: PasswordProblem, _ language: Language) -> String {
        switch (problem, language) {
        case (.tooShort, .zh): "新密码至少需要 \(AccountRules.minimumPasswordLength) 个字符。"
        case (.tooLong, .zh): "新密码太长（最多 \(AccountRules.maximumPasswordBytes) 字节）。"
        case (.containsName, .zh): "新密码不能包含用户名。"
        case (.common, .zh): "新密码过于常见，请换一个。"
        case (.sameAsCurrent, .zh): "新密码不能与当前密码相同。"
        case (.currentWrong, .zh): "当前密码不正确。"
        case (.mismatch, .zh): "两次输入的新密码不一致。"
        case (.tooShort, .en): "the password is shorter than \(AccountRules.minimumPasswordLength) characters"
        case (.tooLong, .en): "the password is longer than \(AccountRules.maximumPasswordBytes) bytes"
        case (.containsName, .en): "the password contains the user name"
        case (.common, .en): "the password is on the list of common passwords"
        case (.sameAsCurrent, .en): "the new password is the current one"
        case (.currentWrong, .en): "the current password is wrong"
        case (.mismatch, .en): "the two new passwords differ"
        }
    }

    public static func recipient(_ kind: RecipientKind, _ language: Language) -> String {
        switch (kind, language) {
        case (.expert, .zh): "专家"
        case (.party, .zh): "当事人"
        case (.office, .zh): "调解室"
        case (_, .en): kind.rawValue
        }
    }

    /// Where an outbox message is: 待发送, 已发送, 发送失败（将重试）, 无法送达, 已跳过.
    public static func outboxStatus(_ status: OutboxStatus, _ language: Language) -> String {
        switch (status, language) {
        case (.pending, .zh): "待发送"
        case (.sent, .zh): "已发送"
        case (.failed, .zh): "发送失败（将重试）"
        case (.dead, .zh): "无法送达"
        case (.skipped, .zh): "已跳过"
        case (_, .en): status.rawValue
        }
    }

    /// What a message is about: 预约通知, 提醒, 改期通知, 取消通知 …
    public static func noticeKind(_ kind: NoticeKind, _ language: Language) -> String {
        switch (kind, language) {
        case (.notice, .zh): "预约通知"
        case (.reminder, .zh): "提醒"
        case (.update, .zh): "改期通知"
        case (.cancel, .zh): "取消通知"
        case (.removed, .zh): "撤出专家组"
        case (.added, .zh): "加入专家组"
        case (.rsvp, .zh): "专家答复"
        case (.followup, .zh): "回访提醒"
        case (_, .en): kind.rawValue
        }
    }

    /// Whether an SMS reached the phone, by its receipt.
    public static func receipt(_ state: ReceiptState, _ language: Language) -> String {
        switch (state, language) {
        case (.waiting, .zh): "尚无回执（每分钟查询一次）"
        case (.delivered, .zh): "已送达手机"
        case (.failed, .zh): "未送达手机，请电话告知"
        case (_, .en): state.rawValue
        }
    }

    /// Where an account stands at `now`: disabled, locked, waiting for its first password, or in use.
    public static func accountState(_ account: Account, now: Date, _ language: Language) -> String {
        let zh = language == .zh
        if account.disabled { return zh ? "已停用" : "disabled" }
        if AccountRules.isLocked(account, now: now) { return zh ? "已锁定" : "locked" }
        if account.mustChangePassword { return zh ? "待修改一次性密码" : "one-time password" }
        return zh ? "正常" : "active"
    }

    /// The rules of a new password, as a person reads them beside the field.
    public static func passwordRules(_ language: Language) -> String {
        let n = AccountRules.minimumPasswordLength
        return language == .zh
            ? "至少 \(n) 个字符，不能包含用户名，不能是常见密码。"
            : "At least \(n) characters, not containing the user name, not a common password."
    }

    /// A category's name: the default categories have Chinese names; one an office added is shown as it was written.
    public static func category(_ category: String, _ language: Language) -> String {
        guard language == .zh else { return category }
        return categoriesZh[category] ?? category
    }

    /// A day as people read it: `12月7日 周一`, `Mon 2026-12-07`.
    public static func day(_ date: LocalDate, _ language: Language) -> String {
        switch language {
        case .zh: "\(date.month)月\(date.day)日 \(date.weekday.chinese)"
        case .en: "\(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][date.weekday.rawValue - 1]) \(date)"
        }
    }

    /// A moment in `zone` as people read it, never bare UTC: `12月7日 周一 09:00`, `Mon 2026-12-07 09:00`.
    public static func moment(_ instant: Date, _ zone: Zone, _ language: Language) -> String {
        let (date, minutes) = zone.wallClock(instant)
        let hh = minutes / 60 < 10 ? "0\(minutes / 60)" : "\(minutes / 60)"
        let mm = minutes % 60 < 10 ? "0\(minutes % 60)" : "\(minutes % 60)"
        return day(date, language) + " " + hh + ":" + mm
    }

    /// A dated span as people read it: whole days by their first and last day (`12月7日 周一 — 12月20日 周日（全天）`,
    /// not up to the next midnight), else from moment to moment.
    public static func span(_ start: Date, _ end: Date, _ zone: Zone, _ language: Language) -> String {
        let (firstDay, startMinutes) = zone.wallClock(start)
        let (endDay, endMinutes) = zone.wallClock(end)
        guard startMinutes == 0, endMinutes == 0, endDay > firstDay else {
            return moment(start, zone, language) + " — " + moment(end, zone, language)
        }
        let lastDay = endDay.adding(days: -1)
        let days =
            lastDay == firstDay ? day(firstDay, language) : day(firstDay, language) + " — " + day(lastDay, language)
        return days + (language == .zh ? "（全天）" : " (whole days)")
    }

    /// Weekly hours in Chinese: `周一 09:00-12:00；周三 14:00-17:00`.
    public static func hours(_ windows: [WeeklyWindow], _ language: Language) -> String {
        guard language == .zh else { return WeeklyWindow.format(windows) }
        let byDay = Dictionary(grouping: windows.sorted(), by: \.weekday)
        return Weekday.allCases.compactMap { day in
            guard let list = byDay[day] else { return nil }
            return day.chinese + " " + list.map { "\($0.start)-\($0.end)" }.joined(separator: " ")
        }.joined(separator: "；")
    }

    /// An outcome's result (`agreement` → 达成协议).
    public static func outcomeResult(_ result: OutcomeResult, _ language: Language) -> String {
        language == .zh ? result.chinese : result.rawValue
    }

    /// An escalation's kind (`criminal` → 民转刑).
    public static func escalation(_ kind: EscalationKind, _ language: Language) -> String {
        language == .zh ? kind.chinese : kind.rawValue
    }

    /// The channel an expert prefers.
    public static func contactChannel(_ channel: ContactChannel, _ language: Language) -> String {
        switch (channel, language) {
        case (.email, .zh): "邮件"
        case (.sms, .zh): "短信"
        case (.wecom, .zh): "企业微信"
        case (.dingtalk, .zh): "钉钉"
        case (.email, .en): "mail"
        case (_, .en): channel.rawValue
        }
    }

    /// Every audit action with a name of its own, for a client that shows an audit list (`GET /v1/words`).
    public static var auditActions: [String] { auditActionsZh.keys.sorted() }

    /// Every specialty and category with a Chinese name, for a client that shows them (`GET /v1/words`).
    public static var specialties: [String] { (Array(categoriesZh.keys) + Array(specialtiesZh.keys)).sorted() }

    /// How a party is told, as the intake form offers it; nil: whatever reaches them.
    public static func partyChannel(_ channel: PartyChannel?, _ language: Language) -> String {
        switch (channel, language) {
        case (nil, .zh): "自动（有邮箱发邮件，配置短信网关后发短信）"
        case (.sms, .zh): "短信"
        case (.email, .zh): "邮件"
        case (.byStaff, .zh): "不通知（由工作人员电话告知）"
        case (nil, .en): "automatic (mail, or SMS once a gateway is configured)"
        case (.sms, .en): "SMS"
        case (.email, .en): "mail"
        case (.byStaff, .en): "none (staff tell them by phone)"
        }
    }

    /// A reason the store itself wrote into a dispute's risk or status history (`escalation #2: violence`,
    /// `session #5 cancelled: …`, `relapsed at follow-up #3`), said in `language`; a person's own reason as written.
    public static func historyReason(_ reason: String, _ language: Language) -> String {
        guard language == .zh else { return reason }
        if reason == "opened" { return "登记" }
        if let m = reason.wholeMatch(of: #/escalation #([0-9]+): ([a-z_]+)(.*)/#) {
            let kind = EscalationKind(rawValue: String(m.2)).map(\.chinese) ?? String(m.2)
            return "升级 #\(m.1)：\(kind)\(m.3)"
        }
        if let m = reason.wholeMatch(of: #/relapsed at follow-up #([0-9]+)(: (.*))?/#) {
            return "回访 #\(m.1) 发现反复" + (m.3.map { "：\($0)" } ?? "")
        }
        if let m = reason.wholeMatch(of: #/session #([0-9]+) outcome: ([a-z_]+)/#) {
            let result = OutcomeResult(rawValue: String(m.2)).map(\.chinese) ?? String(m.2)
            return "调解场次 #\(m.1) 结果：\(result)"
        }
        if let m = reason.wholeMatch(of: #/session #([0-9]+) (booked|imported)/#) {
            return "调解场次 #\(m.1) " + (m.2 == "booked" ? "已预约" : "已导入")
        }
        if let m = reason.wholeMatch(of: #/(?s)session #([0-9]+) ([a-z_]+)(: (.*))?/#),
            let status = SessionStatus(rawValue: String(m.2))
        {
            return "调解场次 #\(m.1) \(sessionStatus(status, .zh))" + (m.4.map { "：\($0)" } ?? "")
        }
        return reason
    }

    /// Why the outbox skipped or could not send a message, as the store and the dispatcher record it (`the session
    /// moved`, `session #3 is in_session`, `没有能单独送达王强的渠道。no channel reaches …`), said in `language`; a
    /// channel's own answer (an SMTP reply, a gateway's code) stays as it came.
    public static func deliveryNote(_ note: String, _ language: Language) -> String {
        guard language == .zh else { return note }
        switch note {
        case "the session moved": return "调解时间已变更，本条不再发送（新时间另行通知）"
        case "the session was cancelled before this was sent": return "发送前调解已取消"
        case "taken off the panel before this was sent": return "发送前已撤出专家组"
        default: break
        }
        if let m = note.wholeMatch(of: #/session #([0-9]+) is ([a-z_]+)(; the group's line about it is not sent)?/#),
            let status = SessionStatus(rawValue: String(m.2))
        {
            return "调解场次 #\(m.1) 已是“\(sessionStatus(status, .zh))”" + (m.3 == nil ? "，本条不再发送" : "，不再发群消息")
        }
        if let m = note.firstMatch(of: #/^(没有能单独送达.+?的渠道。).*?then '(mediationctl outbox retry [0-9]+)'/#) {
            let email = note.firstMatch(of: #/add an email with '([^']+)'/#).map { "用 '\($0.1)' 补充邮箱" }
            let sms = note.contains("configure an SMS gateway") ? "配置短信网关" : nil
            let fix = [email, sms].compactMap { $0 }
            return m.1 + (fix.isEmpty ? "请设置 notices.office_email 并发送 SIGHUP" : "请" + fix.joined(separator: "，或"))
                + "，然后运行 '\(m.2)'"
        }
        return note
    }

    /// An early warning's message as `WarningRules.evaluate` stores it (`JS-2026-0001: 2 sessions missed
    /// (no-show)`), said in `language`; a message of another shape as stored.
    public static func warningMessage(_ message: String, _ language: Language) -> String {
        guard language == .zh else { return message }
        if let m = message.wholeMatch(of: #/(.+) is ([a-z]+) risk and has had no session booked for ([0-9]+) days/#) {
            let risk = RiskLevel(rawValue: String(m.2)).map { self.risk($0, .zh) } ?? String(m.2)
            return "\(m.1) 风险为“\(risk)”，已 \(m.3) 天未预约调解"
        }
        if let m = message.wholeMatch(of: #/(.+): ([0-9]+) sessions missed \(no-show\)/#) {
            return "\(m.1)：当事人已缺席 \(m.2) 场调解"
        }
        if let m = message.wholeMatch(of: #/(.+) relapsed at the follow-up visit of (.+)/#) {
            return "\(m.1) 在 \(m.2) 的回访中发现矛盾反复"
        }
        if let m = message.wholeMatch(of: #/(.+): the follow-up visit due (.+) has no result/#) {
            return "\(m.1)：\(m.2) 应做的回访尚未记录结果"
        }
        return message
    }

    /// An expert's specialty: the categories' names and the usual specialties have Chinese names; another is shown
    /// as it was written.
    public static func specialty(_ tag: String, _ language: Language) -> String {
        guard language == .zh else { return tag }
        let key = tag.lowercased()
        return categoriesZh[key] ?? specialtiesZh[key] ?? tag
    }

    /// The code a specialty's or category's Chinese name stands for (`债务` → `debt`), so that an expert entered with
    /// `--specialty 物业,债务` is found by `--specialty debt` and by a panel's `律师:物业`; the first code in sorted
    /// order where two share a name (`租赁` → `lease`).
    public static let specialtyCodes: [String: String] = {
        var map: [String: String] = [:]
        let all = (categoriesZh.map { ($0.key, $0.value) } + specialtiesZh.map { ($0.key, $0.value) })
        for (code, zh) in all.sorted(by: { $0.0 < $1.0 }) where map[zh] == nil {
            map[zh] = code.replacingOccurrences(of: " ", with: "-")
        }
        return map
    }()

    private static let specialtiesZh: [String: String] = [
        "contract": "合同", "divorce": "离婚", "elderly care": "养老", "elderly-care": "养老", "inheritance": "继承",
        "injury": "人身损害", "insurance": "保险", "lease": "租赁", "parking": "停车", "public-order": "治安",
        "public order": "治安", "wage arrears": "欠薪", "wage-arrears": "欠薪", "medical": "医疗", "land": "土地",
        "construction": "建设工程", "tenancy": "租赁", "school": "校园", "internet": "网络",
    ]

    /// A panel policy as a list offers it: the built-in `standard` by its Chinese name, each by its seats
    /// (`标准组成（法制民警、律师、综治专干）`); an office's own policy keeps its name.
    public static func policy(_ policy: PanelPolicy, _ language: Language) -> String {
        let seats = policy.requirements.map { r in
            (r.count > 1 ? "\(r.count)×" : "") + expertRole(r.role, language)
        }
        guard language == .zh else { return policy.name + " (" + seats.joined(separator: ", ") + ")" }
        return policyName(policy.name, .zh) + "（" + seats.joined(separator: "、") + "）"
    }

    /// A policy's name: the built-in `standard` as 标准组成 for a Chinese reader; an office's own as written.
    public static func policyName(_ name: String, _ language: Language) -> String {
        language == .zh && name == PanelPolicy.standard.name ? "标准组成" : name
    }

    /// A policy's description as an admin wrote it; the built-in `standard` one in the reader's language.
    public static func policyDescription(_ policy: PanelPolicy, _ language: Language) -> String? {
        guard language == .zh, policy.name == PanelPolicy.standard.name,
            policy.description == PanelPolicy.standard.description
        else { return policy.description }
        return "法制民警、律师、综治专干各一名"
    }

    /// What an audit row records (`dispute.open`, `session.book`), as the case file's trail shows it; an action
    /// without a Chinese name here is shown as recorded.
    public static func auditAction(_ action: String, _ language: Language) -> String {
        guard language == .zh else { return action }
        return auditActionsZh[action] ?? action
    }

    private static let auditActionsZh: [String: String] = [
        "dispute.open": "登记纠纷", "dispute.update": "修改纠纷", "dispute.risk": "调整风险", "dispute.close": "结案",
        "dispute.reopen": "重新立案", "party.add": "添加当事人", "party.update": "修改当事人", "party.remove": "移除当事人",
        "party.reveal": "查看完整号码", "session.book": "预约调解", "session.reschedule": "改期", "session.cancel": "取消调解",
        "session.status": "调解状态变更", "session.replace": "替换专家", "session.rsvp": "专家回复",
        "outcome.record": "记录结果", "outcome.amend": "更正结果", "outcome.void": "作废结果", "followup.record": "记录回访",
        "escalation.add": "登记升级", "conflict.add": "登记利害关系", "conflict.remove": "撤销利害关系",
        "outcome.agreement": "打印调解协议书", "expert.leave.add": "登记请假",
        "expert.leave.remove": "删除请假", "expert.extra.add": "登记额外时间", "expert.extra.remove": "删除额外时间",
        "outbox.retry-dead": "重发全部无法送达的通知", "expert.add": "添加专家", "expert.update": "修改专家", "expert.deactivate": "停用专家",
        "expert.reactivate": "恢复专家", "expert.import": "导入专家名册", "expert.feed_reset": "更换日历订阅地址",
        "office.add": "添加调解室", "office.update": "修改调解室", "outbox.retry": "重发通知", "policy.set": "设置专家组组成",
        "retention.run": "清除过期个人信息", "user.add": "添加账号", "user.disable": "停用账号", "user.offices": "设置账号调解室",
        "user.passwd": "重设密码", "warning.check": "检查预警", "console.login": "登录", "console.login_failed": "登录失败",
        "console.lockout": "账号锁定", "console.login_throttled": "登录过于频繁", "console.logout": "退出登录",
        "console.passwd": "修改密码", "console.totp": "设置两步验证", "channel.test": "测试通知渠道", "store.backup": "备份数据库",
    ]

    /// The words an audit row's target is made of (`session 4`, `dispute JS-2026-0001 party 2`, `user li.na`), for
    /// a client that shows the trail (`GET /v1/words`, group `target`).
    public static let auditTargetsZh: [String: String] = [
        "session": "调解场次", "dispute": "纠纷", "party": "当事人", "parties": "当事人", "expert": "专家", "user": "账号",
        "office": "调解室", "roster": "花名册", "outbox": "通知", "message": "通知", "warnings": "预警", "followup": "回访",
        "policy": "专家组成", "store": "数据库", "escalation": "升级", "conflict": "利害关系",
    ]

    private static let categoriesZh: [String: String] = [
        "neighbour": "邻里", "pet": "宠物", "noise": "噪音", "property": "物业", "family": "婚姻家庭", "labour": "劳动",
        "debt": "债务", "traffic": "交通", "consumer": "消费", "other": "其他",
    ]
}
