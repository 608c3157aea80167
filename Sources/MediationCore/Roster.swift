import Foundation

/// The roster file (花名册) that offices keep in a spreadsheet: one expert per row.
public enum Roster {
    /// A column of the roster, with its English and Chinese header names.
    public enum Column: String, CaseIterable, Sendable, Hashable {
        case name, role, mobile, email, offices, specialties, languages
        case weeklyHours = "weekly_hours"
        case timeZone = "time_zone"
        case maxPerDay = "max_per_day"
        case maxPerWeek = "max_per_week"
        case wecomUserId = "wecom_user_id"
        case dingtalkMobile = "dingtalk_mobile"
        case preferredChannel = "preferred_channel"
        case notes, active

        public var chinese: String {
            switch self {
            case .name: "姓名"
            case .role: "角色"
            case .mobile: "手机"
            case .email: "邮箱"
            case .offices: "服务警务室"
            case .specialties: "专长"
            case .languages: "语言"
            case .weeklyHours: "每周时段"
            case .timeZone: "时区"
            case .maxPerDay: "每日上限"
            case .maxPerWeek: "每周上限"
            case .wecomUserId: "企业微信"
            case .dingtalkMobile: "钉钉手机"
            case .preferredChannel: "首选渠道"
            case .notes: "备注"
            case .active: "在岗"
            }
        }

        /// Other spellings people use in headers.
        var aliases: [String] {
            switch self {
            case .mobile: ["phone", "手机号", "手机号码", "电话"]
            case .email: ["e-mail", "mail", "电子邮件"]
            case .offices: ["office", "警务室"]
            case .specialties: ["specialty", "专业", "特长"]
            case .languages: ["language", "方言", "语言方言"]
            case .weeklyHours: ["hours", "availability", "可用时段", "空闲时段"]
            case .wecomUserId: ["wecom"]
            case .dingtalkMobile: ["dingtalk", "钉钉"]
            case .preferredChannel: ["channel", "通知渠道"]
            default: []
            }
        }

        init?(header: String) {
            let h = header.trimmingWhitespace().lowercased().replacingOccurrences(of: " ", with: "_")
            guard
                let c = Column.allCases.first(where: {
                    $0.rawValue == h || $0.chinese == h || $0.aliases.contains(h)
                })
            else { return nil }
            self = c
        }
    }

    /// One row read from a roster, with its line number and the columns its file has.
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var expert: Expert
        /// The columns of the file: an import changes only these fields of an expert already stored.
        public var columns: Set<Column>

        public init(line: Int, expert: Expert, columns: Set<Column> = Set(Column.allCases)) {
            self.line = line
            self.expert = expert
            self.columns = columns
        }

        /// The stored expert with the fields this row's file carries taken from the row; the rest stay.
        ///
        /// For example, a file of `name,role,mobile,offices` changes an expert's offices but keeps the
        /// email, hours and notes that the file does not mention.
        ///
        /// - Throws: `invalidInput` when the merged expert is not valid.
        public func merged(into stored: Expert) throws -> Expert {
            var e = stored
            let r = expert
            for column in columns {
                switch column {
                case .name: e.name = r.name
                case .role: e.role = r.role
                case .mobile: e.mobile = r.mobile
                case .email: e.email = r.email
                case .offices:
                    e.servesAllOffices = r.servesAllOffices
                    e.offices = r.offices
                case .specialties: e.specialties = r.specialties
                case .languages: e.languages = r.languages
                case .weeklyHours: e.weeklyHours = r.weeklyHours
                case .timeZone: e.timeZone = r.timeZone
                case .maxPerDay: e.maxSessionsPerDay = r.maxSessionsPerDay
                case .maxPerWeek: e.maxSessionsPerWeek = r.maxSessionsPerWeek
                case .wecomUserId: e.wecomUserId = r.wecomUserId
                case .dingtalkMobile: e.dingtalkMobile = r.dingtalkMobile
                case .preferredChannel: e.preferredChannel = r.preferredChannel
                case .notes: e.notes = r.notes
                case .active: e.active = r.active
                }
            }
            return try e.validated()
        }
    }

    /// Reads and validates a whole roster; returns every row or throws every problem at once.
    ///
    /// For example, a file whose header is `姓名,角色,手机,服务警务室` and whose second line is
    /// `王芳,律师,13800138000,jinshan` gives one lawyer serving `jinshan`.
    ///
    /// - Throws: `invalidInput` whose `details` hold one `line N: …` entry per problem.
    /// - Parameters:
    ///   - bytes: the file as it was uploaded.
    ///   - knownOffices: office ids that exist; when given, a row naming another office is a problem of its line.
    ///   - officeNames: the offices' names by id: a row may name an office by its name (金山警务室), as the Chinese
    ///     export writes it, and reads as its id.
    public static func read(
        _ bytes: [UInt8], knownOffices: Set<String>? = nil, officeNames: [String: String] = [:]
    ) throws -> [Row] {
        // Keyed as the expert's validation writes an office (trimmed, lower case).
        let idsByName = Dictionary(
            officeNames.map { ($0.value.trimmingWhitespace().lowercased(), $0.key) }, uniquingKeysWith: { a, _ in a })
        let text = try CSV.decodeUTF8(bytes)
        let records = try CSV.parse(text)
        guard let header = records.first else {
            let en = "the roster is empty; the first line must name the columns, for example name,role,mobile,offices"
            throw MediationError(
                .invalidInput, en,
                fields: [FieldProblem(field: "1", en: en, zh: "花名册是空的：第一行应为列名，例如 姓名,角色,手机,服务警务室")])
        }
        var columns: [Column?] = []
        var problems: [FieldProblem] = []
        /// One problem of line `n`, in both languages.
        func add(_ n: Int, _ en: String, _ zh: String) {
            problems.append(FieldProblem(field: String(n), en: "line \(n): \(en)", zh: "第 \(n) 行：\(zh)"))
        }
        for name in header.fields {
            let column = Column(header: name)
            if column == nil {
                add(
                    header.line,
                    "unknown column '\(name)'; known columns: "
                        + Column.allCases.map { "\($0.rawValue) (\($0.chinese))" }.joined(separator: ", "),
                    "不认识的列“\(name)”；可用的列：" + Column.allCases.map(\.chinese).joined(separator: "、"))
            } else if let column, columns.contains(column) {
                add(header.line, "column '\(name)' appears twice", "列“\(name)”出现了两次")
            }
            columns.append(column)
        }
        for required in [Column.name, .role, .offices] where !columns.contains(required) {
            add(
                header.line, "required column '\(required.rawValue)' (\(required.chinese)) is missing",
                "缺少必需的列“\(required.chinese)”")
        }
        if !columns.contains(.mobile) && !columns.contains(.email) {
            add(header.line, "the roster needs a 'mobile' (手机) or 'email' (邮箱) column", "花名册须有“手机”或“邮箱”列")
        }
        if !problems.isEmpty { throw failure(problems) }

        var rows: [Row] = []
        var seenKeys: [String: Int] = [:]
        let present = Set(columns.compactMap { $0 })
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                add(
                    record.line,
                    "\(record.fields.count) fields, but the header has \(columns.count); "
                        + "check for a missing or extra comma, and quote fields that contain commas",
                    "有 \(record.fields.count) 项，表头有 \(columns.count) 项；请检查是否多了或少了逗号，含逗号的内容请加引号")
                continue
            }
            var values: [Column: String] = [:]
            for (column, value) in zip(columns, record.fields) {
                if let column { values[column] = value.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            do {
                var expert = try expert(from: values)
                expert.offices = Array(Set(expert.offices.map { idsByName[$0] ?? $0 })).sorted()
                let key = expert.mobile ?? expert.email ?? ""
                if let earlier = seenKeys[key] {
                    add(
                        record.line, "same mobile/email as line \(earlier); each expert once",
                        "手机或邮箱与第 \(earlier) 行相同；每位专家只写一行")
                } else {
                    seenKeys[key] = record.line
                    rows.append(Row(line: record.line, expert: expert, columns: present))
                }
                if let knownOffices {
                    let unknown = expert.offices.filter { !knownOffices.contains($0) }
                    if !unknown.isEmpty {
                        add(
                            record.line, unknownOffices(unknown, known: knownOffices),
                            unknownOfficesChinese(unknown, known: knownOffices))
                    }
                }
            } catch let e as MediationError {
                for message in e.details.isEmpty ? [e.message] : e.details {
                    add(record.line, message, e.fields.first { $0.en == message }?.zh ?? "内容有误（\(message)）")
                }
            }
        }
        if !problems.isEmpty { throw failure(problems) }
        return rows
    }

    /// "office 'x' does not exist; add it with 'office add' first (known: a, b)"
    public static func unknownOffices(_ unknown: [String], known: Set<String>) -> String {
        "office \(unknown.map { "'\($0)'" }.joined(separator: ", ")) does not exist; "
            + "add it with 'office add' first (known: \(known.isEmpty ? "none yet" : known.sorted().joined(separator: ", ")))"
    }

    /// The same in Chinese: 警务室“x”不存在，请先添加（已有：a、b）.
    public static func unknownOfficesChinese(_ unknown: [String], known: Set<String>) -> String {
        "警务室“\(unknown.joined(separator: "、"))”不存在，请先添加（已有："
            + (known.isEmpty ? "无" : known.sorted().joined(separator: "、")) + "）"
    }

    /// The one error for a rejected roster, each problem in both languages (its field: the line number).
    public static func failure(_ problems: [FieldProblem]) -> MediationError {
        var error = failure(problems.map(\.en))
        error.fields = problems
        return error
    }

    /// The one error for a rejected roster: every problem, each with its line, and the promise that nothing was written.
    public static func failure(_ problems: [String]) -> MediationError {
        MediationError(
            .invalidInput,
            "the roster has \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was imported. "
                + "Fix the lines below and import again:\n" + problems.joined(separator: "\n"),
            details: problems)
    }

    private static func expert(from v: [Column: String]) throws -> Expert {
        var problems = Problems()
        func required(_ c: Column) -> String {
            let value = v[c] ?? ""
            if value.isEmpty {
                problems.add(
                    FieldProblem(field: c.rawValue, en: "\(c.rawValue) (\(c.chinese)) is empty", zh: "“\(c.chinese)”为空")
                )
            }
            return value
        }
        let name = required(.name)
        let roleText = required(.role)
        let role = ExpertRole(parsing: roleText)
        if role == nil && !roleText.isEmpty {
            problems.add(
                FieldProblem(
                    field: "role", en: "role '\(roleText)' is not one of \(ExpertRole.choices)",
                    zh: "角色“\(roleText)”无法识别，请写 " + ExpertRole.allCases.map(\.chinese).joined(separator: "、")))
        }
        let officeText = required(.offices)
        let all = ["all", "*", "全部", "所有"].contains(officeText.lowercased())
        func int(_ c: Column, _ fallback: Int) -> Int {
            guard let text = v[c], !text.isEmpty else { return fallback }
            guard let n = Int(text) else {
                problems.add(
                    FieldProblem(
                        field: c.rawValue, en: "\(c.rawValue) '\(text)' is not a whole number",
                        zh: "“\(c.chinese)”应为整数，不是“\(text)”"))
                return fallback
            }
            return n
        }
        var hours: [WeeklyWindow] = []
        if let text = v[.weeklyHours], !text.isEmpty {
            do { hours = try WeeklyWindow.parseList(text, field: "weekly hours") } catch let e as MediationError {
                problems.add(
                    FieldProblem(
                        field: "weekly_hours", en: e.message,
                        zh: "每周时间“\(text)”无法识别，请写成 周六 09:00-12:00 或 mon-fri 19:00-21:00 的形式"))
            }
        }
        var channel: ContactChannel?
        if let text = v[.preferredChannel], !text.isEmpty {
            channel = ContactChannel(parsing: text)
            if channel == nil {
                problems.add(
                    FieldProblem(
                        field: "preferred_channel",
                        en: "preferred channel '\(text)' is not one of email, sms, wecom, dingtalk",
                        zh: "首选渠道“\(text)”无法识别，请写邮件、短信、企业微信或钉钉"))
            }
        }
        var active = true
        if let text = v[.active]?.lowercased(), !text.isEmpty {
            if ["yes", "y", "true", "1", "是", "在岗"].contains(text) {
                active = true
            } else if ["no", "n", "false", "0", "否", "停用"].contains(text) {
                active = false
            } else {
                problems.add(
                    FieldProblem(
                        field: "active", en: "active '\(text)' is not yes or no (是/否)", zh: "“在岗”应写 是 或 否，不是“\(text)”"))
            }
        }
        let perDay = int(.maxPerDay, 2)
        let perWeek = int(.maxPerWeek, 5)
        // Validate the rest of the row even when the checks above failed, so that a person sees every
        // problem on the line at once. Fields already reported as empty get stand-ins so that they are
        // not reported a second time in other words.
        let draft = Expert(
            name: name.isEmpty ? "-" : name, role: role ?? .lawyer, specialties: Text.splitList(v[.specialties] ?? ""),
            languages: Text.splitList(v[.languages] ?? ""), servesAllOffices: all || officeText.isEmpty,
            offices: all ? [] : Text.splitList(officeText), email: v[.email], mobile: v[.mobile],
            wecomUserId: v[.wecomUserId], dingtalkMobile: v[.dingtalkMobile], preferredChannel: channel,
            timeZone: (v[.timeZone]?.isEmpty ?? true) ? "Asia/Shanghai" : (v[.timeZone] ?? ""),
            maxSessionsPerDay: perDay, maxSessionsPerWeek: perWeek, notes: v[.notes], active: active,
            weeklyHours: hours)
        var validated: Expert?
        do { validated = try draft.validated() } catch let e as MediationError {
            problems.add(e)
        }
        try problems.check("row")
        guard let validated else {
            throw MediationError.said(.invalidInput, en: "row could not be read", zh: "这一行无法读取")
        }
        return validated
    }

    /// Writes experts in the format `read` accepts, sorted as given: English headers and values, or (`.zh`, the
    /// console's export) the Chinese headers and words of the sample roster and the offices by name
    /// (`officeNames`, by id), which `read` takes back as well when given the same names.
    public static func write(_ experts: [Expert], language: Language = .en, officeNames: [String: String] = [:])
        -> String
    {
        let zh = language == .zh
        var rows = [Column.allCases.map { zh ? $0.chinese : $0.rawValue }]
        for e in experts {
            rows.append(
                Column.allCases.map { c in
                    switch c {
                    case .name: e.name
                    case .role: zh ? e.role.chinese : e.role.rawValue
                    case .mobile: e.mobile ?? ""
                    case .email: e.email ?? ""
                    case .offices:
                        e.servesAllOffices
                            ? (zh ? "全部" : "all")
                            : e.offices.map { zh ? officeNames[$0] ?? $0 : $0 }.joined(separator: "|")
                    case .specialties: e.specialties.joined(separator: "|")
                    case .languages: e.languages.joined(separator: "|")
                    case .weeklyHours: zh ? Words.hours(e.weeklyHours, .zh) : WeeklyWindow.format(e.weeklyHours)
                    case .timeZone: e.timeZone
                    case .maxPerDay: String(e.maxSessionsPerDay)
                    case .maxPerWeek: String(e.maxSessionsPerWeek)
                    case .wecomUserId: e.wecomUserId ?? ""
                    case .dingtalkMobile: e.dingtalkMobile ?? ""
                    case .preferredChannel:
                        e.preferredChannel.map { zh ? Words.contactChannel($0, .zh) : $0.rawValue } ?? ""
                    case .notes: e.notes ?? ""
                    case .active: zh ? (e.active ? "是" : "否") : (e.active ? "yes" : "no")
                    }
                })
        }
        return CSV.write(rows)
    }
}
