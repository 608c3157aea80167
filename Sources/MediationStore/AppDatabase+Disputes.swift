import Foundation
import GRDB
import MediationCore

/// Which disputes a listing returns; nil fields do not filter.
public struct DisputeFilter: Sendable, Equatable {
    public var office: String?
    public var status: DisputeStatus?
    public var risk: RiskLevel?
    public var category: String?
    /// Words searched in the number, title and elements.
    public var text: String?

    public init(
        office: String? = nil, status: DisputeStatus? = nil, risk: RiskLevel? = nil, category: String? = nil,
        text: String? = nil
    ) {
        self.office = office
        self.status = status
        self.risk = risk
        self.category = category
        self.text = text
    }
}

/// A dispute with everything staff look at: parties, and the history of its risk and status.
public struct DisputeDetail: Sendable, Equatable {
    public var dispute: Dispute
    public var parties: [Party]
    public var riskHistory: [RiskChange]
    public var statusHistory: [StatusChange]
}

/// One change of a dispute's status: who, when, why.
public struct StatusChange: Sendable, Hashable {
    public var at: Date
    public var from: DisputeStatus?
    public var to: DisputeStatus
    public var reason: String
    public var uid: UInt32
    public var user: String?
}

extension AppDatabase {
    /// Registers a dispute, numbers it per office and year, and records its first risk level. With `intakeKey` (the
    /// key of the form it came from), the same form sent again answers the dispute it registered, and writes nothing.
    ///
    /// - Throws: `invalidInput` for bad fields or an unknown office.
    public func openDispute(
        _ draft: Dispute, parties: [Party] = [], categories: [String], riskReason: String? = nil, actor: Actor,
        conflicts: [IntakeConflict] = [], intakeKey: String? = nil
    ) async throws -> DisputeDetail {
        let now = clock.now()
        try Text.check(Text.nonEmpty(riskReason), "the risk reason", max: InputLimits.reasonLength, multiline: true)
        let validParties = try parties.map { try $0.validated() }
        for (i, p) in validParties.enumerated() where validParties[..<i].contains(where: { $0.isSamePerson(as: p) }) {
            throw MediationError.said(
                .invalidInput, field: "parties",
                en: "the party \(p.name) is listed twice with the same mobile; give each party once",
                zh: "当事人 \(p.name) 填写了两次（手机号相同），每位当事人只填一次")
        }
        return try await write { db in
            if let intakeKey,
                let earlier = try Int64.fetchOne(
                    db, sql: "SELECT dispute_id FROM intake_key WHERE key = ?", arguments: [intakeKey])
            {
                return try Self.detail(try Self.findDispute(String(earlier), db).dispute, db)
            }
            guard let office = try OfficeRecord.fetchOne(db, key: draft.officeId.lowercased())?.office else {
                throw Self.officeNotFound(draft.officeId, db).asInput()
            }
            let zone = try Zone(office.timeZone)
            var dispute = try draft.validated(categories: categories, now: now, zone: zone)
            dispute.officeId = office.id
            let year = zone.wallClock(now).date.year
            let last =
                try Int.fetchOne(
                    db, sql: "SELECT last FROM dispute_counter WHERE office_id = ? AND year = ?",
                    arguments: [office.id, year]) ?? 0
            try db.execute(
                sql: "INSERT OR REPLACE INTO dispute_counter (office_id, year, last) VALUES (?, ?, ?)",
                arguments: [office.id, year, last + 1])
            dispute.number = Dispute.number(prefix: office.numberPrefix, year: year, sequence: last + 1)
            dispute.status = .open
            dispute.openedAt = now
            dispute.closedAt = nil
            var record = DisputeRecord(dispute, year: year, sequence: last + 1, updatedAt: now)
            try record.insert(db)
            try Self.recordRisk(
                db, dispute: record.dispute.id, from: nil, to: dispute.risk,
                reason: Text.nonEmpty(riskReason) ?? "opened",
                actor: actor, at: now)
            try Self.recordStatus(
                db, dispute: record.dispute.id, from: nil, to: .open, reason: "opened", actor: actor, at: now)
            var partyIds: [Int64] = []
            for var party in validParties {
                party.disputeId = record.dispute.id
                var p = PartyRecord(party)
                try p.insert(db)
                partyIds.append(p.party.id)
            }
            try self.audit(
                db, "dispute.open", "dispute \(dispute.number)",
                "opened at \(office.id): \(dispute.title) (\(dispute.category), \(dispute.risk.rawValue) risk"
                    + (validParties.isEmpty ? ")" : ", \(validParties.count) parties)"))
            // Conflicts entered at intake, in the same transaction: one refused leaves nothing written.
            for c in conflicts {
                let party = try c.party.map { index -> Int64 in
                    guard partyIds.indices.contains(index) else {
                        throw MediationError.said(
                            .invalidInput, en: "the conflict names a party that is not in the dispute",
                            zh: "利害关系中选择的当事人不在这起纠纷中")
                    }
                    return partyIds[index]
                }
                // Entered with this dispute, a conflict must concern it: one of its parties, or a party's
                // organisation. Anything else (周柒 typed for the party 周七) would be kept for no one, silently.
                if party == nil, let organisation = c.organisation?.trimmingWhitespace() {
                    let organisations = validParties.compactMap { $0.organisation?.trimmingWhitespace() }
                    if !organisations.contains(organisation) {
                        let near = NameSuggestion.near(organisation, among: validParties.map(\.name) + organisations)
                        throw MediationError.said(
                            .invalidInput, field: "conflict-with",
                            en: "'\(organisation)' is neither a party of this dispute nor a party's organisation"
                                + (near.isEmpty ? "" : " (did you mean '\(near.joined(separator: "' or '"))'?)")
                                + "; name one of the parties above, or the organisation a party belongs to",
                            zh: "“\(organisation)”既不是上面填写的当事人，也不是当事人的单位"
                                + (near.isEmpty ? "" : "，是不是“" + near.joined(separator: "”或“") + "”？")
                                + "请填写上面某位当事人的姓名，或其所在单位")
                    }
                }
                _ = try self.insertConflict(
                    db, expert: c.expert, partyId: party, organisation: party == nil ? c.organisation : nil,
                    reason: c.reason, now: now)
            }
            if let intakeKey {
                try db.execute(
                    sql: "INSERT INTO intake_key (key, dispute_id, created_at) VALUES (?, ?, ?)",
                    arguments: [intakeKey, record.dispute.id, now])
            }
            return try Self.detail(record.dispute, db)
        }
    }

    /// A dispute by its number (any case) or id, with parties and history.
    public func dispute(_ ref: String) async throws -> DisputeDetail {
        try await read { db in try Self.detail(try Self.findDispute(ref, db).dispute, db) }
    }

    /// Disputes matching `filter`, newest first.
    public func disputes(_ filter: DisputeFilter = DisputeFilter()) async throws -> [Dispute] {
        try await read { db in
            var sql = "SELECT * FROM dispute WHERE 1"
            var arguments: StatementArguments = []
            if let office = filter.office?.lowercased() {
                guard try OfficeRecord.fetchOne(db, key: office) != nil else {
                    throw Self.officeNotFound(office, db)
                }
                sql += " AND office_id = ?"
                arguments += [office]
            }
            if let status = filter.status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let risk = filter.risk {
                sql += " AND risk = ?"
                arguments += [risk.rawValue]
            }
            if let category = filter.category?.lowercased() {
                sql += " AND category = ?"
                arguments += [category]
            }
            if let text = Text.nonEmpty(filter.text) {
                let columns = ["number", "title", "cause", "location", "nature", "involved", "development"]
                sql += " AND (" + columns.map { "\($0) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")"
                let pattern = "%" + TagColumn.escapeLike(text) + "%"
                arguments += StatementArguments(columns.map { _ in pattern })
            }
            return try DisputeRecord.fetchAll(db, sql: sql + " ORDER BY opened_at DESC, id DESC", arguments: arguments)
                .map(\.dispute)
        }
    }

    /// Changes the title, category or elements.
    ///
    /// - Throws: `notFound`, `invalidInput`; nothing is written on either.
    public func updateDispute(
        _ ref: String, categories: [String], _ change: @escaping @Sendable (inout Dispute) throws -> Void
    ) async throws -> DisputeDetail {
        let now = clock.now()
        return try await write { db in
            var record = try Self.findDispute(ref, db)
            try record.dispute.status.checkEditable(dispute: record.dispute.number)
            var dispute = record.dispute
            try change(&dispute)
            // Only the descriptive fields change here; number, office, risk and status have their own paths.
            let stored = record.dispute
            dispute.id = stored.id
            dispute.number = stored.number
            dispute.officeId = stored.officeId
            dispute.risk = stored.risk
            dispute.status = stored.status
            dispute.openedAt = stored.openedAt
            dispute.closedAt = stored.closedAt
            // A time it occurred that is typed now may not lie ahead; one stored earlier is left as it is.
            record.dispute = try dispute.validated(
                categories: categories, now: dispute.elements.occurredAt == stored.elements.occurredAt ? nil : now,
                zone: try Self.officeZone(stored.officeId, db))
            let summary = Self.changed(
                [
                    ("title", stored.title, record.dispute.title),
                    ("category", stored.category, record.dispute.category),
                ] + Self.elementChanges(stored.elements, record.dispute.elements))
            // The same values again change nothing, and leave no trace.
            guard record.dispute != stored else { return try Self.detail(stored, db) }
            record.updatedAt = now
            try record.update(db)
            try self.audit(db, "dispute.update", "dispute \(stored.number)", summary)
            return try Self.detail(record.dispute, db)
        }
    }

    /// Sets the risk level, keeping who, when and why.
    ///
    /// - Throws: `invalidInput` without a reason; `notFound`.
    public func setRisk(_ ref: String, to level: RiskLevel, reason: String, actor: Actor) async throws -> DisputeDetail
    {
        guard let why = Text.nonEmpty(reason) else {
            throw MediationError.said(
                .invalidInput, field: "reason", en: "a risk change needs a reason; say why with --reason",
                zh: "调整风险等级须说明原因，请用 --reason 填写")
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        let now = clock.now()
        return try await write { db in
            var record = try Self.findDispute(ref, db)
            try record.dispute.status.checkEditable(dispute: record.dispute.number)
            let before = record.dispute.risk
            guard before != level else {
                throw MediationError.said(
                    .invalidInput, field: "risk",
                    en: "dispute \(record.dispute.number) is already \(level.rawValue) risk",
                    zh: "纠纷 \(record.dispute.number) 的风险等级已经是“\(Words.risk(level, .zh))”")
            }
            record.dispute.risk = level
            record.updatedAt = now
            try record.update(db)
            try Self.recordRisk(
                db, dispute: record.dispute.id, from: before, to: level, reason: why, actor: actor, at: now)
            try self.audit(
                db, "dispute.risk", "dispute \(record.dispute.number)",
                "risk \(before.rawValue) → \(level.rawValue): \(why)")
            return try Self.detail(record.dispute, db)
        }
    }

    /// Moves a dispute to another status when the state machine allows it, keeping who, when and why.
    ///
    /// - Throws: `conflict` for an illegal move, `invalidInput` without a reason, `notFound`.
    public func changeStatus(_ ref: String, to target: DisputeStatus, reason: String, actor: Actor) async throws
        -> DisputeDetail
    {
        guard let why = Text.nonEmpty(reason) else {
            throw MediationError.said(
                .invalidInput, field: "reason", en: "a status change needs a reason; say why with --reason",
                zh: "更改纠纷状态须说明原因，请用 --reason 填写")
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        let now = clock.now()
        return try await write { db in
            var record = try Self.findDispute(ref, db)
            let before = record.dispute.status
            try before.check(target, dispute: record.dispute.number)
            record.dispute.status = target
            record.dispute.closedAt = target == .closed ? now : nil
            record.updatedAt = now
            try record.update(db)
            try Self.recordStatus(
                db, dispute: record.dispute.id, from: before, to: target, reason: why, actor: actor, at: now)
            try self.audit(
                db, target == .closed ? "dispute.close" : "dispute.reopen", "dispute \(record.dispute.number)",
                "status \(before.rawValue) → \(target.rawValue): \(why)")
            return try Self.detail(record.dispute, db)
        }
    }

    // MARK: Parties

    /// Adds a party to a dispute. When the dispute has a session booked ahead, the party is queued its notice and
    /// the reminders still to come, in the same transaction.
    public func addParty(_ disputeRef: String, _ party: Party, rules: SchedulingRules) async throws -> Party {
        let valid = try party.validated()
        let now = clock.now()
        return try await write { db in
            let dispute = try Self.findDispute(disputeRef, db).dispute
            try dispute.status.checkEditable(dispute: dispute.number)
            if let same = try Self.parties(of: dispute.id, db).first(where: { $0.isSamePerson(as: valid) }) {
                throw Party.enteredTwice(same, dispute: dispute.number)
            }
            var record = PartyRecord(valid)
            record.party.disputeId = dispute.id
            record.party.id = 0
            try record.insert(db)
            let told = try Self.queueNewParty(db, party: record.party.id, dispute: dispute.id, rules: rules, now: now)
            try self.audit(
                db, "party.add", "dispute \(dispute.number) party \(record.party.id)",
                "added \(record.party.name) (\(record.party.side.rawValue))\(Self.contactSummary(record.party))"
                    + (told.isEmpty
                        ? "" : "; notice queued for session " + told.map { "#\($0)" }.joined(separator: " ")))
            return record.party
        }
    }

    /// A party of a dispute, by id (`3`, `#3`) or exact name.
    ///
    /// - Throws: `notFound` (with the names one slip away from a mistyped one); `invalidInput` when two parties
    ///   of the dispute bear the name.
    public func party(_ disputeRef: String, party ref: String) async throws -> Party {
        try await read { db in
            try Self.findParty(ref, of: try Self.findDispute(disputeRef, db).dispute, db).party
        }
    }

    /// Changes a party of a dispute, named by id or exact name.
    public func updateParty(
        _ disputeRef: String, party ref: String, _ change: @escaping @Sendable (inout Party) throws -> Void
    ) async throws -> Party {
        try await write { db in
            let dispute = try Self.findDispute(disputeRef, db).dispute
            try dispute.status.checkEditable(dispute: dispute.number)
            var record = try Self.findParty(ref, of: dispute, db)
            let id = record.party.id
            var party = record.party
            try change(&party)
            party.id = record.party.id
            party.disputeId = dispute.id
            let before = record.party
            record.party = try party.validated()
            // The same values again change nothing, and leave no trace.
            guard record.party != before else { return before }
            if let same = try Self.parties(of: dispute.id, db).first(where: {
                $0.id != id && $0.isSamePerson(as: record.party)
            }) {
                throw Party.enteredTwice(same, dispute: dispute.number)
            }
            try record.update(db)
            let after = record.party
            try self.audit(
                db, "party.update", "dispute \(dispute.number) party \(id)",
                Self.changed([
                    ("name", before.name, after.name), ("side", before.side.rawValue, after.side.rawValue),
                    (
                        "mobile", before.mobile.map(Contact.maskMobile) ?? "-",
                        after.mobile.map(Contact.maskMobile) ?? "-"
                    ),
                    ("email", before.email ?? "-", after.email ?? "-"),
                    ("ID card", before.idCard.map(IDCard.mask) ?? "-", after.idCard.map(IDCard.mask) ?? "-"),
                    ("organisation", before.organisation ?? "-", after.organisation ?? "-"),
                    ("language", before.language ?? "-", after.language ?? "-"),
                    ("time zone", before.timeZone, after.timeZone),
                    ("hours", "\(before.weeklyWindows)", "\(after.weeklyWindows)"),
                    ("dated windows", "\(before.datedWindows)", "\(after.datedWindows)"),
                    ("channel", before.channel?.rawValue ?? "-", after.channel?.rawValue ?? "-"),
                ]))
            return record.party
        }
    }

    /// Removes a party, named by id or exact name (and the conflicts recorded against it).
    public func removeParty(_ disputeRef: String, party ref: String) async throws {
        try await write { db in
            let dispute = try Self.findDispute(disputeRef, db).dispute
            try dispute.status.checkEditable(dispute: dispute.number)
            let party = try Self.findParty(ref, of: dispute, db).party
            try db.execute(sql: "DELETE FROM party WHERE id = ? AND dispute_id = ?", arguments: [party.id, dispute.id])
            try Self.skipRemovedParty(db, party: party.id)
            try self.audit(
                db, "party.remove", "dispute \(dispute.number) party \(party.id)", "removed \(party.name)")
        }
    }

    /// A party of `dispute` by id (`3`, `#3`) or exact name; a name typed with one slip gets a suggestion.
    static func findParty(_ ref: String, of dispute: Dispute, _ db: Database) throws -> PartyRecord {
        var r = ref.trimmingWhitespace()
        if r.hasPrefix("#"), r.dropFirst().allSatisfy(\.isNumber) { r.removeFirst() }
        let parties = try PartyRecord.fetchAll(
            cached: db, sql: "SELECT * FROM party WHERE dispute_id = ? ORDER BY id", arguments: [dispute.id])
        if let id = Int64(r), let found = parties.first(where: { $0.party.id == id }) { return found }
        let named = parties.filter { $0.party.name == r }
        if named.count == 1 { return named[0] }
        if named.count > 1 {
            let list = named.map { "#\($0.party.id) (\($0.party.side.rawValue))" }.joined(separator: ", ")
            let listZh = named.map { "#\($0.party.id)（\(Words.side($0.party.side, .zh))）" }.joined(separator: "、")
            throw MediationError.said(
                .invalidInput, field: "party",
                en: "\(named.count) parties of \(dispute.number) are named \(r): \(list); give the id instead",
                zh: "纠纷 \(dispute.number) 有 \(named.count) 位当事人叫“\(r)”：\(listZh)；请改填当事人编号")
        }
        let guess = NameSuggestion.didYouMean(r, among: parties.map(\.party.name))
        let near = NameSuggestion.near(r, among: parties.map(\.party.name))
        throw MediationError.said(
            .notFound, field: "party",
            en: "dispute \(dispute.number) has no party '\(r)'" + (guess.map { "; \($0)" } ?? "")
                + "; 'dispute show \(dispute.number)' lists them",
            zh: "纠纷 \(dispute.number) 没有当事人“\(r)”"
                + (near.isEmpty ? "" : "，是不是“" + near.joined(separator: "”或“") + "”？")
                + "；'dispute show \(dispute.number)' 会列出全部当事人")
    }

    // MARK: Conflicts of interest

    /// Records that an expert is related to a party or an organisation.
    ///
    /// - Throws: `invalidInput` when neither or both are given; `notFound` for the expert or party.
    /// - Returns: the conflict, and a warning for each booked or running session on whose panel the expert sits
    ///   although the conflict concerns its dispute (the expert should be replaced there).
    public func addConflict(expert ref: String, partyId: Int64?, organisation: String?, reason: String?) async throws
        -> (conflict: Conflict, warnings: [FieldProblem])
    {
        let organisation = Text.nonEmpty(organisation)
        guard (partyId == nil) != (organisation == nil) else {
            throw MediationError.said(
                .invalidInput, field: "party",
                en: "name either a party or an organisation; use --party ID or --organisation NAME",
                zh: "请在当事人和单位中选择一个（--party ID 或 --organisation NAME，二选一）")
        }
        try Text.check(organisation, "organisation", max: InputLimits.organisationLength)
        try Text.check(Text.nonEmpty(reason), "the reason", max: InputLimits.reasonLength, multiline: true)
        let now = clock.now()
        return try await write { db in
            try self.insertConflict(
                db, expert: ref, partyId: partyId, organisation: organisation, reason: reason, now: now)
        }
    }

    /// A conflict stored in the caller's transaction (`addConflict`, and `openDispute` for those entered at intake):
    /// the expert found, the same relation refused twice, audited, and a warning per booked panel it concerns.
    func insertConflict(
        _ db: Database, expert ref: String, partyId: Int64?, organisation: String?, reason: String?, now: Date
    ) throws -> (conflict: Conflict, warnings: [FieldProblem]) {
        let expert = try Self.findExpert(ref, db).expert
        if let partyId, try PartyRecord.fetchOne(db, key: partyId) == nil {
            throw MediationError.said(
                .notFound, field: "party",
                en: "no party #\(partyId); 'dispute show DISPUTE' lists a dispute's parties",
                zh: "没有编号为 \(partyId) 的当事人；'dispute show DISPUTE' 会列出纠纷的当事人")
        }
        // The same relation twice would only be a second row to keep in step.
        let recorded = try ConflictRecord.fetchAll(
            db, sql: "SELECT * FROM conflict WHERE expert_id = ? ORDER BY id", arguments: [expert.id]
        ).map(\.conflict)
        if let same = recorded.first(where: { c in
            if let partyId { return c.partyId == partyId }
            return c.organisation.map { Conflict.sameOrganisation($0, organisation ?? "") } ?? false
        }) {
            throw MediationError.said(
                .conflict,
                en: "\(expert.name)'s conflict with "
                    + (partyId.map { "party #\($0)" } ?? "'\(same.organisation ?? "")'")
                    + " is already recorded (conflict #\(same.id)); 'conflict list --expert \(expert.id)' shows it",
                zh: "\(expert.name) 与"
                    + (partyId.map { "当事人 #\($0)" } ?? "“\(same.organisation ?? "")”")
                    + "的利害关系已经登记过（第 \(same.id) 条）；'conflict list --expert \(expert.id)' 可以查看")
        }
        var record = ConflictRecord(
            Conflict(
                expertId: expert.id, partyId: partyId, organisation: organisation, reason: Text.nonEmpty(reason)),
            createdAt: now)
        try record.insert(db)
        try self.audit(
            db, "conflict.add", "expert \(expert.id)",
            "conflict #\(record.conflict.id) with "
                + (partyId.map { "party \($0)" } ?? "organisation \(organisation ?? "")")
                + (record.conflict.reason.map { ": \($0)" } ?? ""))
        let warnings = try Self.seatWarnings(
            expert, during: Interval(start: .distantPast, end: .distantFuture), db,
            because: ("this conflict concerns it", "与其有利害关系")
        ) { row in
            record.conflict.concerns(
                try Self.parties(of: try StoredRow(row, table: "session").value(Column("dispute_id")), db))
        }
        return (record.conflict, warnings.map(\.said))
    }

    /// Removes a conflict of interest recorded by mistake; the removal and its reason are audited.
    ///
    /// - Throws: `invalidInput` without a reason; `notFound` for an unknown conflict.
    public func removeConflict(_ id: Int64, reason: String) async throws {
        guard let why = Text.nonEmpty(reason) else {
            let en = "removing a conflict needs a reason; say why with --reason"
            throw MediationError(
                .invalidInput, en, fields: [FieldProblem(field: "reason", en: en, zh: "撤销利害关系须说明原因，它会记入审计记录")])
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        try await write { db in
            guard let record = try ConflictRecord.fetchOne(db, key: id) else {
                throw MediationError.said(
                    .notFound, en: "no conflict #\(id); 'conflict list' shows them",
                    zh: "没有编号为 \(id) 的利害关系；'conflict list' 会列出全部")
            }
            try db.execute(sql: "DELETE FROM conflict WHERE id = ?", arguments: [id])
            let c = record.conflict
            try self.audit(
                db, "conflict.remove", "expert \(c.expertId)",
                "conflict #\(id) with " + (c.partyId.map { "party \($0)" } ?? "organisation \(c.organisation ?? "")")
                    + " removed: \(why)")
        }
    }

    /// Conflicts, optionally of one expert or concerning one dispute's parties.
    public func conflicts(expert ref: String? = nil, dispute disputeRef: String? = nil) async throws -> [Conflict] {
        try await read { db in
            var all = try ConflictRecord.fetchAll(db, sql: "SELECT * FROM conflict ORDER BY id").map(\.conflict)
            if let ref {
                let id = try Self.findExpert(ref, db).expert.id
                all = all.filter { $0.expertId == id }
            }
            if let disputeRef {
                let dispute = try Self.findDispute(disputeRef, db).dispute
                let parties = try Self.parties(of: dispute.id, db)
                all = all.filter { $0.concerns(parties) }
            }
            return all
        }
    }

    /// The experts never to propose for a dispute.
    public func conflictedExperts(dispute ref: String) async throws -> Set<Int64> {
        Set(try await conflicts(dispute: ref).map(\.expertId))
    }

    // MARK: Panel policies

    public func policies() async throws -> [PanelPolicy] {
        try await read { db in try Self.fetchPolicies(db, name: nil) }
    }

    /// - Throws: `notFound` naming the policies that exist.
    public func policy(_ name: String) async throws -> PanelPolicy {
        try await read { db in
            guard let policy = try Self.fetchPolicies(db, name: name.lowercased()).first else {
                let names = try Self.fetchPolicies(db, name: nil).map(\.name)
                throw MediationError.said(
                    .notFound, field: "policy",
                    en: "no panel policy '\(name)'; policies: \(names.joined(separator: ", "))",
                    zh: "没有名为“\(name)”的组成规则；现有：\(names.joined(separator: "、"))")
            }
            return policy
        }
    }

    /// Creates or replaces a policy.
    public func setPolicy(_ policy: PanelPolicy) async throws -> PanelPolicy {
        let valid = try policy.validated()
        let now = clock.now()
        return try await write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO panel_policy (name, description, requirements, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [valid.name, valid.description, RequirementsColumn.encode(valid.requirements), now.epoch])
            try self.audit(
                db, "policy.set", "policy \(valid.name)",
                "requires " + valid.requirements.map(\.description).joined(separator: ", "))
            return valid
        }
    }

    // MARK: Helpers inside transactions

    /// "title 'a' → 'b'; category x → y" for the fields that changed, or "no change".
    static func changed(_ fields: [(String, String, String)]) -> String {
        let parts = fields.filter { $0.1 != $0.2 }.map { name, before, after in
            let short = { (s: String) in s.count > 60 ? String(s.prefix(60)) + "…" : s }
            return "\(name) '\(short(before))' → '\(short(after))'"
        }
        return parts.isEmpty ? "no change" : parts.joined(separator: "; ")
    }

    static func elementChanges(_ a: DisputeElements, _ b: DisputeElements) -> [(String, String, String)] {
        func text(_ v: (some Any)?) -> String { v.map { "\($0)" } ?? "-" }
        return [
            ("cause", text(a.cause), text(b.cause)), ("location", text(a.location), text(b.location)),
            ("nature", text(a.nature), text(b.nature)), ("scale", text(a.scale), text(b.scale)),
            ("involved", text(a.involved), text(b.involved)),
            ("development", text(a.development), text(b.development)),
            ("occurred", text(a.occurredAt), text(b.occurredAt)),
        ]
    }

    /// ", mobile 137****0001, ID card 4301**********1234" for the contact details a party has.
    static func contactSummary(_ p: Party) -> String {
        var parts: [String] = []
        if let m = p.mobile { parts.append("mobile \(Contact.maskMobile(m))") }
        if p.email != nil { parts.append("email") }
        if let id = p.idCard { parts.append("ID card \(IDCard.mask(id))") }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: ", ")
    }

    static func fetchPolicies(_ db: Database, name: String?) throws -> [PanelPolicy] {
        let rows = try db.cachedRows(
            "SELECT * FROM panel_policy WHERE ? IS NULL OR name = ? ORDER BY name", [name, name])
        return try rows.map { row in
            let r = StoredRow(row, table: "panel_policy", key: "the policy named \(row["name"] as DatabaseValue)")
            return PanelPolicy(
                name: try r.value(Column("name")), description: try r.optional(Column("description")),
                requirements: try r.parsed(
                    Column("requirements"), as: RequirementsColumn.form, RequirementsColumn.decode))
        }
    }

    static func findDispute(_ ref: String, _ db: Database) throws -> DisputeRecord {
        let r = Text.halfWidth(ref).trimmingWhitespace()
        if let record = try DisputeRecord.fetchOne(
            cached: db, sql: "SELECT * FROM dispute WHERE number = ?", arguments: [r.uppercased()])
        {
            return record
        }
        if let id = Int64(r),
            let record = try DisputeRecord.fetchOne(
                cached: db, sql: "SELECT * FROM dispute WHERE id = ?", arguments: [id])
        {
            return record
        }
        throw MediationError.said(
            .notFound, en: "no dispute '\(ref)'; give its number (JS-2026-0042) or id as 'dispute list' shows",
            zh: "没有纠纷“\(ref)”；请填写 'dispute list' 中显示的编号（如 JS-2026-0042）或 id")
    }

    static func parties(of dispute: Int64, _ db: Database) throws -> [Party] {
        try PartyRecord.fetchAll(
            cached: db, sql: "SELECT * FROM party WHERE dispute_id = ? ORDER BY id", arguments: [dispute]
        )
        .map(\.party)
    }

    static func detail(_ dispute: Dispute, _ db: Database) throws -> DisputeDetail {
        let risk = try Row.fetchAll(
            db, sql: "SELECT * FROM dispute_risk_change WHERE dispute_id = ? ORDER BY at, id", arguments: [dispute.id]
        ).map { row -> RiskChange in
            let r = StoredRow(row, table: "dispute_risk_change")
            return RiskChange(
                at: try r.date(Column("at")), from: try r.optional(Column("from_level")),
                to: try r.value(Column("to_level")), reason: try r.value(Column("reason")),
                uid: try r.value(Column("uid")), user: try r.optional(Column("user")))
        }
        let status = try Row.fetchAll(
            db, sql: "SELECT * FROM dispute_status_change WHERE dispute_id = ? ORDER BY at, id", arguments: [dispute.id]
        ).map { row -> StatusChange in
            let r = StoredRow(row, table: "dispute_status_change")
            return StatusChange(
                at: try r.date(Column("at")), from: try r.optional(Column("from_status")),
                to: try r.value(Column("to_status")), reason: try r.value(Column("reason")),
                uid: try r.value(Column("uid")), user: try r.optional(Column("user")))
        }
        return DisputeDetail(
            dispute: dispute, parties: try parties(of: dispute.id, db), riskHistory: risk, statusHistory: status)
    }

    static func recordRisk(
        _ db: Database, dispute: Int64, from: RiskLevel?, to: RiskLevel, reason: String, actor: Actor, at: Date
    ) throws {
        try recordChange(db, "dispute_risk_change", "level", dispute, from?.rawValue, to.rawValue, reason, actor, at)
    }

    static func recordStatus(
        _ db: Database, dispute: Int64, from: DisputeStatus?, to: DisputeStatus, reason: String, actor: Actor, at: Date
    ) throws {
        try recordChange(db, "dispute_status_change", "status", dispute, from?.rawValue, to.rawValue, reason, actor, at)
    }

    /// One row of a dispute's history: who moved what from where to where, when and why.
    private static func recordChange(
        _ db: Database, _ table: String, _ kind: String, _ dispute: Int64, _ from: String?, _ to: String,
        _ reason: String, _ actor: Actor, _ at: Date
    ) throws {
        try db.cachedExecute(
            "INSERT INTO \(table) (dispute_id, at, from_\(kind), to_\(kind), reason, uid, user) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [dispute, at.epoch, from, to, reason, Int64(actor.uid), actor.user])
    }
}

extension MediationError {
    /// The same message as bad input (an unknown office named in a request body is the caller's mistake).
    func asInput() -> MediationError { MediationError(.invalidInput, message, details: details, fields: fields) }
}

/// A conflict of interest entered with a new dispute (the console's intake): an expert (id, mobile, email or name)
/// and either one of the dispute's parties (its place in `parties`) or an organisation.
public struct IntakeConflict: Sendable, Equatable {
    public var expert: String
    public var party: Int?
    public var organisation: String?
    public var reason: String?

    public init(expert: String, party: Int? = nil, organisation: String? = nil, reason: String? = nil) {
        self.expert = expert
        self.party = party
        self.organisation = organisation
        self.reason = reason
    }
}
