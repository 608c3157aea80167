import Foundation

/// One seat kind of a panel: a role, optionally with a specialty or a language, and how many.
/// Panel policies and the slot finder (Scheduling/) share this one type.
public struct PanelRequirement: Sendable, Hashable, Codable, CustomStringConvertible {
    public var role: ExpertRole
    /// A tag the expert must list among their specialties; compared trimmed and lower-case.
    public var specialty: String?
    /// A tag the expert must list among their languages; compared trimmed and lower-case.
    public var language: String?
    /// Seats of this kind on the panel; at least 1.
    public var count: Int

    public init(role: ExpertRole, specialty: String? = nil, language: String? = nil, count: Int = 1) {
        self.role = role
        self.specialty = specialty
        self.language = language
        self.count = count
    }

    /// `lawyer`, `lawyer:property`, `2*community_staff`, `retiree@上海话`, `律师:property`.
    public init(parsing text: String) throws {
        // A bare role as stored (`lawyer`): the common case of every panel read, without the general reading.
        if let role = ExpertRole(rawValue: text) {
            self.init(role: role)
            return
        }
        var t = text.trimmingWhitespace()
        var count = 1
        if let star = t.firstIndex(of: "*"), let n = Int(t[..<star]) {
            count = n
            t = String(t[t.index(after: star)...])
        }
        var language: String?
        if let at = t.firstIndex(of: "@") {
            language = String(t[t.index(after: at)...])
            t = String(t[..<at])
        }
        var specialty: String?
        if let colon = t.firstIndex(of: ":") ?? t.firstIndex(of: "：") {
            specialty = String(t[t.index(after: colon)...])
            t = String(t[..<colon])
        }
        guard let role = ExpertRole(parsing: t) else {
            throw MediationError.said(
                .invalidInput, field: "requirements",
                en: "requirement '\(text)' names no role; write a role, e.g. lawyer:property, 2*community_staff",
                zh: "席位要求“\(text)”没有写角色，请写如 律师:property、2*综治专干")
        }
        guard InputLimits.seatsPerRequirement.contains(count) else {
            let range = InputLimits.seatsPerRequirement
            throw MediationError.said(
                .invalidInput, field: "requirements",
                en:
                    "requirement '\(text)' asks for \(count) experts; ask for \(range.lowerBound) to \(range.upperBound)",
                zh: "席位要求“\(text)”要 \(count) 位专家，每项请要 \(range.lowerBound) 至 \(range.upperBound) 位")
        }
        self.init(
            role: role, specialty: specialty.flatMap { Tag.normalize([$0]).first },
            language: language.flatMap { Tag.normalize([$0]).first }, count: count)
    }

    public var description: String {
        (count > 1 ? "\(count)*" : "") + role.rawValue + (specialty.map { ":\($0)" } ?? "")
            + (language.map { "@\($0)" } ?? "")
    }

    /// True when `expert` can take a seat of this requirement (role, specialty, language).
    public func admits(role: ExpertRole, specialties: [String], languages: [String]) -> Bool {
        role == self.role && (specialty.map { specialties.contains($0) } ?? true)
            && (language.map { languages.contains($0) } ?? true)
    }
}

/// A named requirement set that an admin keeps, such as `standard`.
public struct PanelPolicy: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    public var requirements: [PanelRequirement]

    public init(name: String, description: String? = nil, requirements: [PanelRequirement]) {
        self.name = name
        self.description = description
        self.requirements = requirements
    }

    /// One legal officer, one lawyer and one community staff member.
    public static let standard = PanelPolicy(
        name: "standard", description: "one legal officer, one lawyer, one community staff member",
        requirements: [
            PanelRequirement(role: .legalOfficer), PanelRequirement(role: .lawyer),
            PanelRequirement(role: .communityStaff),
        ])

    /// Checks the name and the requirements.
    ///
    /// - Throws: `invalidInput` listing every problem.
    public func validated() throws -> PanelPolicy {
        var p = self
        var problems = Problems()
        p.name = name.trimmingWhitespace().lowercased()
        if !Office.isValidID(p.name) {
            problems.add(
                FieldProblem(
                    field: "name",
                    en: "policy name '\(name)' must be 2–32 characters of a–z, 0–9 and '-', starting with a letter",
                    zh: "组成规则名称“\(name)”须为 2–32 个小写字母、数字或“-”，以字母开头"))
        }
        if requirements.isEmpty {
            problems.add(
                FieldProblem(
                    field: "requirements", en: "a policy needs at least one requirement, e.g. --require lawyer",
                    zh: "组成规则至少要有一个席位要求，如 --require lawyer"))
        }
        let seats = requirements.reduce(0) { $0 + $1.count }
        if seats > InputLimits.seatsPerPolicy {
            problems.add(
                FieldProblem(
                    field: "requirements",
                    en: "a panel of \(seats) experts is too large; \(InputLimits.seatsPerPolicy) at most",
                    zh: "专家组 \(seats) 位专家太多，最多 \(InputLimits.seatsPerPolicy) 位"))
        }
        p.description = Text.nonEmpty(description)
        if let problem = Text.problem(
            p.description, field: "description", "description", "说明", max: InputLimits.policyDescriptionLength)
        {
            problems.add(problem)
        }
        try problems.check("policy")
        return p
    }

    /// The requirements for a dispute: this policy's, plus a legal officer when the risk is high or critical
    /// and `legalOfficerFrom` is at or below it, and the pool has none in the policy.
    public func requirements(for risk: RiskLevel, legalOfficerFrom: RiskLevel?) -> [PanelRequirement] {
        guard let threshold = legalOfficerFrom, risk >= threshold,
            !requirements.contains(where: { $0.role == .legalOfficer })
        else { return requirements }
        return [PanelRequirement(role: .legalOfficer)] + requirements
    }
}
