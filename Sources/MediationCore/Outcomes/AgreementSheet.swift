import Foundation

/// 人民调解协议书: what an agreement reached in a session must say on paper (People's Mediation Law, Articles 28–29),
/// gathered from the store's records: the parties' particulars, the main facts and the matters in dispute, each
/// party's responsibility, the agreed terms, how and by when they are performed, the mediators, the date, a line to
/// sign (and press a fingerprint) for every party and mediator, the seal, and the number of copies. What the records
/// do not hold (an address, the responsibilities, the performance) is left as a line to write on. The template
/// `zh/agreement.mustache` lays it out; `values` is what it gets.
///
/// For example, the first agreement of dispute JS-2026-0042 is numbered `JS-2026-0042-XY1`.
public struct AgreementSheet: Sendable {
    public struct Person: Sendable {
        public var name: String
        public var side: PartySide
        public var idCard: String?
        public var organisation: String?
        public var mobile: String?
        /// 男 or 女, from the ID number's 17th digit; nil without one.
        public var sex: String?
    }

    public var number: String
    public var office: String
    public var disputeTitle: String
    public var category: String
    /// The main facts as the case file holds them: `诱因：…`, `地点：…`.
    public var facts: [String]
    public var parties: [Person]
    public var terms: String
    public var amount: String?
    public var mediators: [(name: String, role: String, lead: Bool)]
    /// `2026年12月14日`, the session's day in the office's zone.
    public var date: String
    /// Whether the parties' numbers are shown in full (a role in `privacy.reveal_roles`).
    public var revealed: Bool

    /// The sheet of `outcome` (an agreement or partial agreement) of `session`, the `ordinal`-th agreement of its
    /// dispute; party numbers masked unless `reveal`.
    ///
    /// - Throws: `conflict` when the outcome is not an agreement: no agreement is printed for it.
    public init(
        dispute: Dispute, parties: [Party], session: Session, outcome: Outcome, ordinal: Int,
        mediators: [(name: String, role: ExpertRole, lead: Bool)], officeName: String, zone: Zone, reveal: Bool
    ) throws {
        guard [.agreement, .partialAgreement].contains(outcome.result) else {
            throw MediationError(
                .conflict,
                "session #\(session.id)'s outcome is \(outcome.result.rawValue); an agreement (调解协议书) is printed only "
                    + "for an agreement or a partial agreement",
                fields: [
                    FieldProblem(
                        field: "agreement", en: "the outcome is \(outcome.result.rawValue), not an agreement",
                        zh: "本场调解的结果是“\(outcome.result.chinese)”，只有达成（或部分达成）协议的才能打印调解协议书")
                ])
        }
        number = "\(dispute.number)-XY\(ordinal)"
        office = officeName
        disputeTitle = dispute.title
        category = Words.category(dispute.category, .zh)
        let e = dispute.elements
        facts = [
            ("发生时间", e.occurredAt.map { Self.chineseTime($0, zone) }), ("地点", e.location), ("诱因", e.cause),
            ("性质", e.nature), ("涉及人数", e.scale.map(String.init)), ("人员构成", e.involved), ("事态发展", e.development),
        ].compactMap { label, value in value.map { "\(label)：\($0)" } }
        // A masked number is of no use on a signed paper: for a role that may not see it, the line is left blank
        // for the party to write in.
        self.parties = parties.map { p in
            Person(
                name: p.name, side: p.side, idCard: reveal ? p.idCard : nil, organisation: p.organisation,
                mobile: reveal ? p.mobile : nil, sex: p.idCard.flatMap(Self.sex))
        }
        terms = outcome.terms ?? ""
        amount = outcome.amountFen.map { Money.format(fen: $0) }
        self.mediators = mediators.map { ($0.name, $0.role.chinese, $0.lead) }
        let day = zone.wallClock(session.start).date
        date = "\(day.year)年\(day.month)月\(day.day)日"
        revealed = reveal
    }

    /// `2026年12月1日 14:30` in the office's zone.
    static func chineseTime(_ instant: Date, _ zone: Zone) -> String {
        let (day, minutes) = zone.wallClock(instant)
        return "\(day.year)年\(day.month)月\(day.day)日 " + String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// 男 or 女 from an 18-character ID number (its 17th digit: odd for men), masked or not.
    static func sex(_ idCard: String) -> String? {
        let characters = Array(idCard)
        guard characters.count == 18, let digit = characters[16].wholeNumberValue else { return nil }
        return digit % 2 == 1 ? "男" : "女"
    }

    /// What the template gets: `number`, `office`, `dispute.{title,category}`, `facts` (list), `parties` (list of
    /// `name`, `side`, `sex`, `idCard`, `organisation`, `mobile`), `terms`, `amount`, `mediators` (list of `name`,
    /// `role`, `lead`), `date`, `copies`, `revealed`. A value the records lack is absent (the template draws a line).
    public var values: [String: Any] {
        var v: [String: Any] = [
            "number": number, "office": office, "dispute": ["title": disputeTitle, "category": category],
            "facts": facts, "hasFacts": !facts.isEmpty,
            "parties": parties.map { p -> [String: Any] in
                var row: [String: Any] = ["name": p.name, "side": Words.side(p.side, .zh)]
                if let sex = p.sex { row["sex"] = sex }
                if let id = p.idCard { row["idCard"] = id }
                if let org = p.organisation { row["organisation"] = org }
                if let mobile = p.mobile { row["mobile"] = mobile }
                return row
            },
            "mediators": mediators.map { ["name": $0.name, "role": $0.role, "lead": $0.lead] as [String: Any] },
            "date": date, "copies": parties.count + 1, "revealed": revealed,
        ]
        if !terms.isEmpty { v["terms"] = terms }
        if let amount { v["amount"] = amount }
        return v
    }
}

/// 调解笔录: the skeleton of a session's record for the mediator to fill in by hand: the case, the time and place, who
/// presides, the mediators and the parties, then lines for the rights told, each party's statement, the course of
/// the mediation and its result, and a signature line for everyone. Any session may have one, before or after it is
/// held. The template `zh/record.mustache` lays it out.
public struct RecordSheet: Sendable {
    public var number: String
    public var office: String
    public var disputeTitle: String
    public var category: String
    /// `2026年12月14日 14:00–15:30` in the office's zone.
    public var time: String
    public var parties: [(name: String, side: String)]
    public var mediators: [(name: String, role: String, lead: Bool)]

    public init(
        dispute: Dispute, parties: [Party], session: Session, mediators: [(name: String, role: ExpertRole, lead: Bool)],
        officeName: String, zone: Zone
    ) {
        let wall = zone.wallClock(session.start)
        let end = zone.wallClock(session.end)
        func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
        number = "\(dispute.number)-BL\(session.id)"
        office = officeName
        disputeTitle = dispute.title
        category = Words.category(dispute.category, .zh)
        time = "\(wall.date.year)年\(wall.date.month)月\(wall.date.day)日 \(clock(wall.minutes))–\(clock(end.minutes))"
        self.parties = parties.map { ($0.name, Words.side($0.side, .zh)) }
        self.mediators = mediators.map { ($0.name, $0.role.chinese, $0.lead) }
    }

    /// What the template gets: `number`, `office`, `dispute.{title,category}`, `time`, `parties` (`name`, `side`),
    /// `mediators` (`name`, `role`, `lead`).
    public var values: [String: Any] {
        [
            "number": number, "office": office, "dispute": ["title": disputeTitle, "category": category], "time": time,
            "parties": parties.map { ["name": $0.name, "side": $0.side] },
            "mediators": mediators.map { ["name": $0.name, "role": $0.role, "lead": $0.lead] as [String: Any] },
        ]
    }
}
