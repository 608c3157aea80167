import Foundation

/// How dangerous a dispute is; a rising level is an early warning to the office.
public enum RiskLevel: String, Sendable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    /// Reads `high`, `HIGH`, or the Chinese 低/中/高/极高 (also 低风险 …).
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased().replacingOccurrences(of: "风险", with: "")
        switch t {
        case "low", "低": self = .low
        case "medium", "中", "中等": self = .medium
        case "high", "高": self = .high
        case "critical", "极高", "严重", "紧急": self = .critical
        default: return nil
        }
    }

    public static func < (a: RiskLevel, b: RiskLevel) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// Where a dispute stands. The moves between them are the only ones `DisputeStatus.check` allows.
public enum DisputeStatus: String, Sendable, Codable, CaseIterable {
    case open, scheduled
    case inSession = "in_session"
    case resolved, unresolved, referred, closed

    /// The statuses a dispute may move to from this one.
    public var next: [DisputeStatus] {
        switch self {
        case .open: [.scheduled, .closed]
        case .scheduled: [.open, .inSession]
        case .inSession: [.resolved, .unresolved, .referred, .scheduled]
        case .resolved: [.closed, .open]
        case .unresolved: [.scheduled, .closed, .open]
        case .referred: [.closed, .open]
        case .closed: [.open]
        }
    }

    /// Checks a move.
    ///
    /// - Throws: `conflict` naming the dispute, where it is, and where it may go instead.
    public func check(_ target: DisputeStatus, dispute: String) throws {
        guard next.contains(target) else {
            let advice =
                switch (self, target) {
                case (.scheduled, .closed): "; cancel its booked session first ('session cancel SESSION --reason …')"
                case (.scheduled, .resolved), (.scheduled, .unresolved), (.scheduled, .referred):
                    "; hold its session, then record the session's outcome"
                case (.inSession, .closed): "; end its session and record the outcome first"
                default: ""
                }
            let adviceZh =
                switch (self, target) {
                case (.scheduled, .closed): "；请先取消已预约的调解（'session cancel SESSION --reason …'）"
                case (.scheduled, .resolved), (.scheduled, .unresolved), (.scheduled, .referred):
                    "；请先举行调解，再记录调解结果"
                case (.inSession, .closed): "；请先结束调解并记录调解结果"
                default: ""
                }
            throw MediationError.said(
                .conflict,
                en: "dispute \(dispute) is \(rawValue); it cannot become \(target.rawValue) "
                    + "(from \(rawValue) it can become: \(next.map(\.rawValue).joined(separator: ", ")))" + advice,
                zh: "纠纷 \(dispute) 现为“\(Words.disputeStatus(self, .zh))”，不能改为“\(Words.disputeStatus(target, .zh))”"
                    + "（可改为：\(next.map { Words.disputeStatus($0, .zh) }.joined(separator: "、"))）" + adviceZh)
        }
    }

    /// Checks that a dispute's details, risk and parties may change: a closed dispute is kept as it was closed.
    ///
    /// - Throws: `conflict` saying to reopen it first.
    public func checkEditable(dispute: String) throws {
        guard self != .closed else {
            throw MediationError.said(
                .conflict,
                en: "dispute \(dispute) is closed; reopen it first to change it "
                    + "('dispute reopen \(dispute) --reason …')",
                zh: "纠纷 \(dispute) 已结案；如需修改，请先重新立案（'dispute reopen \(dispute) --reason …'）")
        }
    }
}

/// The seven elements police practice records for a dispute.
public struct DisputeElements: Sendable, Hashable, Codable {
    /// 诱因: what set it off.
    public var cause: String?
    /// When it happened (as told; an instant when a time was given).
    public var occurredAt: Date?
    /// 地点.
    public var location: String?
    /// 性质: its nature (civil, neighbourly, economic …).
    public var nature: String?
    /// 规模: how many people are involved.
    public var scale: Int?
    /// 人员构成: who is involved.
    public var involved: String?
    /// 事态发展: how it has developed.
    public var development: String?

    public init(
        cause: String? = nil, occurredAt: Date? = nil, location: String? = nil, nature: String? = nil,
        scale: Int? = nil, involved: String? = nil, development: String? = nil
    ) {
        self.cause = cause
        self.occurredAt = occurredAt
        self.location = location
        self.nature = nature
        self.scale = scale
        self.involved = involved
        self.development = development
    }
}

/// A neighbourhood dispute registered by an office.
public struct Dispute: Sendable, Hashable, Codable {
    public var id: Int64
    /// Per office and year, for example `JS-2026-0042`; given by the store.
    public var number: String
    public var officeId: String
    public var title: String
    public var category: String
    public var elements: DisputeElements
    public var risk: RiskLevel
    public var status: DisputeStatus
    public var openedAt: Date
    public var closedAt: Date?

    public init(
        id: Int64 = 0, number: String = "", officeId: String, title: String, category: String,
        elements: DisputeElements = DisputeElements(), risk: RiskLevel = .low, status: DisputeStatus = .open,
        openedAt: Date = Date(timeIntervalSince1970: 0), closedAt: Date? = nil
    ) {
        self.id = id
        self.number = number
        self.officeId = officeId
        self.title = title
        self.category = category
        self.elements = elements
        self.risk = risk
        self.status = status
        self.openedAt = openedAt
        self.closedAt = closedAt
    }

    /// The categories an office uses when the configuration names none.
    public static let defaultCategories = [
        "neighbour", "pet", "noise", "property", "family", "labour", "debt", "traffic", "consumer", "other",
    ]

    /// The default categories' Chinese names.
    static let chineseCategories: [String: String] = [
        "邻里": "neighbour", "宠物": "pet", "噪音": "noise", "噪声": "noise", "物业": "property", "房产": "property",
        "家庭": "family", "婚姻家庭": "family", "劳动": "labour", "劳资": "labour", "债务": "debt", "借贷": "debt",
        "交通": "traffic", "消费": "consumer", "其他": "other",
    ]

    /// A category as typed: one of `categories` as it is, else a default one by its Chinese name (噪音 is noise,
    /// 邻里 is neighbour) when `categories` holds it.
    public static func category(typed text: String, categories: [String]) -> String {
        let t = text.trimmingWhitespace().lowercased()
        if categories.contains(t) { return t }
        guard let alias = chineseCategories[t.replacingOccurrences(of: "纠纷", with: "")], categories.contains(alias)
        else {
            return t
        }
        return alias
    }

    /// Checks and normalises the fields a person typed.
    ///
    /// - Parameters:
    ///   - now: when given, the time it occurred may not be later than this (an hour's grace for clocks).
    ///   - zone: the office's, in which a message shows that time.
    /// - Throws: `invalidInput` listing every problem.
    public func validated(categories: [String], now: Date? = nil, zone: Zone) throws -> Dispute {
        var d = self
        var problems = Problems()
        d.title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        if d.title.isEmpty {
            problems.add(
                FieldProblem(
                    field: "title", en: "title is empty; say in a few words what the dispute is about",
                    zh: "请填写纠纷名称，用几个字说明纠纷内容"))
        }
        if d.title.count > InputLimits.titleLength {
            problems.add(
                FieldProblem(
                    field: "title",
                    en: "title is longer than \(InputLimits.titleLength) characters; put details in the elements",
                    zh: "纠纷名称不能超过 \(InputLimits.titleLength) 个字，详细情况请写在要素中"))
        } else if let problem = Text.problem(d.title, field: "title", "title", "纠纷名称", max: InputLimits.titleLength) {
            problems.add(problem)
        }
        d.category = Dispute.category(typed: category, categories: categories)
        if !categories.contains(d.category) {
            problems.add(
                FieldProblem(
                    field: "category",
                    en: "category '\(category)' is not one of \(categories.joined(separator: ", "))",
                    zh: "类别“\(category)”不在可选范围内："
                        + categories.map { Words.category($0, .zh) }.joined(separator: "、")))
        }
        if let now, let occurred = elements.occurredAt, occurred > now.addingTimeInterval(3600) {
            problems.add(
                FieldProblem(
                    field: "occurredAt",
                    en: "the time it occurred (\(zone.format(occurred))) is in the future; give when it happened",
                    zh: "发生时间（\(Words.moment(occurred, zone, .zh))）在将来，请填写实际发生的时间"))
        }
        if let scale = elements.scale, !InputLimits.scale.contains(scale) {
            problems.add(
                FieldProblem(
                    field: "scale",
                    en: "scale \(scale) is not a number of people from \(InputLimits.scale.lowerBound) to "
                        + "\(InputLimits.scale.upperBound)",
                    zh: "涉及人数 \(scale) 应在 \(InputLimits.scale.lowerBound) 至 \(InputLimits.scale.upperBound) 之间"))
        }
        d.elements.cause = Text.nonEmpty(elements.cause)
        d.elements.location = Text.nonEmpty(elements.location)
        d.elements.nature = Text.nonEmpty(elements.nature)
        d.elements.involved = Text.nonEmpty(elements.involved)
        d.elements.development = Text.nonEmpty(elements.development)
        for (field, zh, value) in [
            ("cause", "诱因", d.elements.cause), ("location", "地点", d.elements.location),
            ("nature", "性质", d.elements.nature), ("involved", "人员构成", d.elements.involved),
            ("development", "事态发展", d.elements.development),
        ] {
            if let problem = Text.problem(
                value, field: field, field, zh, max: InputLimits.elementLength, multiline: true)
            {
                problems.add(problem)
            }
        }
        try problems.check("dispute")
        return d
    }

    /// `JS-2026-0042`.
    public static func number(prefix: String, year: Int, sequence: Int) -> String {
        String(format: "%@-%04d-%04d", prefix, year, sequence)
    }
}

/// One change of a dispute's risk level: who, when, why.
public struct RiskChange: Sendable, Hashable, Codable {
    public var at: Date
    public var from: RiskLevel?
    public var to: RiskLevel
    public var reason: String
    public var uid: UInt32
    public var user: String?

    public init(at: Date, from: RiskLevel?, to: RiskLevel, reason: String, uid: UInt32, user: String?) {
        self.at = at
        self.from = from
        self.to = to
        self.reason = reason
        self.uid = uid
        self.user = user
    }
}

/// Who made a change, as the access layer identified them.
public struct Actor: Sendable, Hashable {
    public var uid: UInt32
    public var user: String?
    public var isAdmin: Bool

    public init(uid: UInt32, user: String?, isAdmin: Bool) {
        self.uid = uid
        self.user = user
        self.isAdmin = isAdmin
    }
}
