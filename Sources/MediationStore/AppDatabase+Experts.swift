import Foundation
import GRDB
import MediationCore

/// Which experts a listing returns; nil fields do not filter.
public struct ExpertFilter: Sendable, Equatable {
    public var role: ExpertRole?
    public var office: String?
    public var specialty: String?
    public var active: Bool?

    public init(role: ExpertRole? = nil, office: String? = nil, specialty: String? = nil, active: Bool? = nil) {
        self.role = role
        self.office = office
        self.specialty = specialty
        self.active = active
    }
}

/// What a roster import did, or would do on a dry run.
public struct ImportReport: Sendable, Equatable {
    public var created: [Int] = []
    public var updated: [Int] = []
    public var unchanged: [Int] = []
    /// Lines that take an active expert out of the pool (active no / 否): among `updated`.
    public var deactivated: [Int] = []
    /// For each of them still on a booked session's panel: the session and the command that replaces them.
    public var warnings: [FieldProblem] = []
    /// Those sessions' ids, in the same order.
    public var seatSessions: [Int64] = []
    public var dryRun: Bool
}

extension AppDatabase {
    /// Stores a new expert.
    ///
    /// - Throws: `invalidInput` for bad fields or unknown offices; `conflict` when the mobile or email is taken.
    public func createExpert(_ expert: Expert) async throws -> Expert {
        var expert = try expert.validated()
        expert.id = 0
        let now = clock.now()
        let draft = expert
        return try await write { db in
            try Self.checkOffices(draft, db)
            try Self.checkUnique(draft, db)
            var record = ExpertRecord(draft, createdAt: now, updatedAt: now)
            try record.insert(db)
            try self.audit(
                db, "expert.add", "expert \(record.expert.id)", "added \(draft.name) (\(draft.role.rawValue))")
            return record.expert
        }
    }

    /// Applies `change` to a stored expert and saves it if it is still valid.
    ///
    /// - Throws: `notFound`, `invalidInput` or `conflict`; nothing is written on any of them.
    public func updateExpert(
        _ ref: String, action: String = "expert.update", _ change: @escaping @Sendable (inout Expert) throws -> Void
    ) async throws -> Expert {
        let now = clock.now()
        return try await write { db in try self.changeExpert(ref, action: action, now: now, db, change) }
    }

    /// `updateExpert`'s work, in the caller's transaction.
    private func changeExpert(
        _ ref: String, action: String, now: Date, _ db: Database, _ change: (inout Expert) throws -> Void
    ) throws -> Expert {
        let record = try Self.findExpert(ref, db)
        var expert = record.expert
        try change(&expert)
        expert.id = record.expert.id
        expert = try expert.validated()
        try Self.checkOffices(expert, db)
        try Self.checkUnique(expert, db)
        let updated = ExpertRecord(expert, createdAt: record.createdAt, updatedAt: now)
        try updated.update(db)
        try self.audit(db, action, "expert \(expert.id)", Self.expertChanges(record.expert, expert))
        return updated.expert
    }

    /// Finds an expert by id, mobile, email or exact name.
    ///
    /// - Throws: `notFound`, or `invalidInput` when a name matches several experts.
    public func expert(_ ref: String) async throws -> Expert {
        try await read { db in try Self.findExpert(ref, db).expert }
    }

    /// The experts a search pins or excludes, each named by id, mobile, email or exact name, as the API's and the
    /// console's searches take them. An expert that is not there, or a name that several share, is a mistake in what
    /// was typed: `invalidInput` with the problem beside `field` in both languages.
    public func expertIDs(_ refs: [String], field: String) async throws -> [Int64] {
        var ids: [Int64] = []
        for ref in refs {
            do {
                ids.append(try await expert(ref).id)
            } catch let e as MediationError where e.kind == .notFound {
                throw MediationError(
                    .invalidInput, e.message, fields: [FieldProblem(field: field, en: e.message, zh: "找不到专家“\(ref)”。")])
            } catch let e as MediationError where e.kind == .invalidInput {
                throw MediationError(
                    .invalidInput, e.message,
                    fields: [FieldProblem(field: field, en: e.message, zh: "有多位专家叫“\(ref)”，请填写专家编号。")])
            }
        }
        return ids
    }

    /// Experts matching `filter`, by id.
    public func experts(_ filter: ExpertFilter = ExpertFilter()) async throws -> [Expert] {
        try await read { db in
            var request = ExpertRecord.order(ExpertRecord.Columns.id)
            if let role = filter.role { request = request.filter(ExpertRecord.Columns.role == role.rawValue) }
            if let active = filter.active { request = request.filter(ExpertRecord.Columns.active == active) }
            if let office = filter.office?.lowercased() {
                guard try OfficeRecord.fetchOne(db, key: office) != nil else { throw Self.officeNotFound(office, db) }
                request = request.filter(
                    sql: "serves_all_offices = 1 OR offices LIKE ? ESCAPE '\\'", arguments: [TagColumn.pattern(office)])
            }
            if let specialty = filter.specialty.flatMap({ Tag.normalize([$0]).first }) {
                request = request.filter(
                    sql: "specialties LIKE ? ESCAPE '\\'", arguments: [TagColumn.pattern(specialty)])
            }
            return try request.fetchAll(db).map(\.expert)
        }
    }

    /// Marks an expert active or not; an inactive expert is never proposed for a panel.
    public func setExpertActive(_ ref: String, _ active: Bool) async throws -> Expert {
        active
            ? try await updateExpert(ref, action: "expert.reactivate") { $0.active = true }
            : try await deactivateExpert(ref).expert
    }

    /// Takes an expert out of the pool.
    ///
    /// - Returns: the expert, and a warning for each booked or running session on whose panel they still sit
    ///   (they stay there until replaced), naming the session and the replace command.
    public func deactivateExpert(_ ref: String) async throws -> (expert: Expert, warnings: [FieldProblem]) {
        let now = clock.now()
        return try await write { db in
            let expert = try self.changeExpert(ref, action: "expert.deactivate", now: now, db) { $0.active = false }
            let warnings = try Self.seatWarnings(
                expert, during: Interval(start: now, end: .distantFuture), db,
                because: ("an inactive expert stays on a panel until replaced", "已停用的专家在被替换前仍在专家组中"))
            return (expert, warnings.map(\.said))
        }
    }

    /// One warning per booked or running session overlapping `span` on whose panel `expert` sits: the session,
    /// its dispute and start in its office's zone, why it matters, and the command that replaces them. The one
    /// wording for leave, deactivation and conflicts of interest, in both languages (the caller's reader chooses).
    static func seatWarnings(
        _ expert: Expert, during span: Interval, _ db: Database, because why: (en: String, zh: String),
        only keep: (Row) throws -> Bool = { _ in true }
    ) throws -> [(session: Int64, said: FieldProblem)] {
        var warnings: [(session: Int64, said: FieldProblem)] = []
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT s.id, s.dispute_id, s.starts_at, d.number, o.time_zone FROM session s
                JOIN session_panel p ON p.session_id = s.id JOIN dispute d ON d.id = s.dispute_id
                JOIN office o ON o.id = s.office_id
                WHERE p.expert_id = ? AND s.status IN ('booked', 'in_session') AND s.starts_at < ? AND s.ends_at > ?
                ORDER BY s.starts_at, s.id
                """,
            arguments: [
                expert.id, span.end == .distantFuture ? Double.greatestFiniteMagnitude : span.end.epoch,
                span.start == .distantPast ? -Double.greatestFiniteMagnitude : span.start.epoch,
            ])
        where try keep(row) {
            let r = StoredRow(row, table: "session")
            let session: Int64 = try r.value(Column("id"))
            let number: String = try StoredRow(row, table: "dispute", key: "of session #\(session)").value(
                Column("number"))
            let zone = try StoredRow(row, table: "office", key: "of session #\(session)").zone(Column("time_zone"))
            let start = try r.date(Column("starts_at"))
            let replace = "'session replace \(session) \(expert.id)'"
            warnings.append(
                (
                    session,
                    FieldProblem(
                        field: "session-\(session)",
                        en: "\(expert.name) sits on the panel of session #\(session) for \(number) at "
                            + "\(zone.format(start)), and \(why.en); replace them: \(replace) lists the substitutes",
                        zh: "\(expert.name) 在 \(number) 的调解场次 #\(session)（\(Words.moment(start, zone, .zh))）的专家组中，"
                            + "\(why.zh)；请替换：\(replace) 列出可替换的专家")
                ))
        }
        return warnings
    }

    // MARK: Time off and extra availability

    /// Which kind of dated span.
    public enum SpanKind: String, Sendable {
        case timeOff = "expert_time_off"
        case extra = "expert_extra_availability"

        /// The span's name in messages: "time off", "extra availability".
        public var what: String { self == .timeOff ? "time off" : "extra availability" }
    }

    /// A stored dated span of an expert.
    public struct Span: Sendable, Equatable {
        public var id: Int64
        public var expertId: Int64
        public var interval: Interval
        public var note: String?
        /// When just added as time off: one line per booked or running session it covers on whose panel the
        /// expert sits, with the replace command.
        public var warnings: [FieldProblem] = []
        /// Those sessions' ids, in the same order.
        public var covered: [Int64] = []
    }

    /// Adds time off or extra availability.
    ///
    /// - Throws: `invalidInput` when it ends before it starts or is longer than a year; `notFound` for the expert.
    public func addSpan(_ kind: SpanKind, expert ref: String, interval: Interval, note: String?) async throws -> Span {
        let what = kind.what
        try AvailabilityResolver.checkSpan(interval, what: what)
        let now = clock.now()
        let note = Text.nonEmpty(note)
        return try await write { db in
            let record = try Self.findExpert(ref, db)
            let expert = record.expert
            try db.execute(
                sql:
                    "INSERT INTO \(kind.rawValue) (expert_id, starts_at, ends_at, note, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [expert.id, interval.start.epoch, interval.end.epoch, note, now.epoch])
            let span = db.lastInsertedRowID
            let zone = try Zone(expert.timeZone)
            try self.audit(
                db, kind == .timeOff ? "expert.leave.add" : "expert.extra.add", "expert \(expert.id)",
                "\(what) #\(span) \(zone.format(interval.start)) – \(zone.format(interval.end))"
                    + (note.map { ": \($0)" } ?? ""))
            let warnings =
                kind == .timeOff
                ? try Self.seatWarnings(expert, during: interval, db, because: ("this leave covers it", "这段请假与其重叠"))
                : []
            return Span(
                id: span, expertId: expert.id, interval: interval, note: note, warnings: warnings.map(\.said),
                covered: warnings.map(\.session))
        }
    }

    /// Spans of one expert that overlap `range` (all of them when nil).
    public func spans(_ kind: SpanKind, expert ref: String, overlapping range: Interval? = nil) async throws -> [Span] {
        try await read { db in
            let expert = try Self.findExpert(ref, db)
            return try Self.fetchSpans(kind, expertId: expert.expert.id, overlapping: range, db)
        }
    }

    /// Removes one span of an expert.
    ///
    /// - Throws: `notFound` when the expert has no such span.
    public func removeSpan(_ kind: SpanKind, expert ref: String, id: Int64) async throws {
        try await write { db in
            let expert = try Self.findExpert(ref, db)
            try db.execute(
                sql: "DELETE FROM \(kind.rawValue) WHERE id = ? AND expert_id = ?", arguments: [id, expert.expert.id])
            if db.changesCount == 0 {
                let id0 = expert.expert.id
                let list =
                    kind == .timeOff
                    ? "'mediationctl expert leave list \(id0)'" : "'mediationctl expert extra list \(id0)'"
                throw MediationError.said(
                    .notFound,
                    en: "expert #\(id0) has no \(kind == .timeOff ? "time off" : "extra availability") #\(id); "
                        + "list them with \(list)",
                    zh: "专家 \(expert.expert.name)（#\(id0)）没有编号为 \(id) 的"
                        + (kind == .timeOff ? "请假" : "额外可约时间") + "；\(list) 会列出它们")
            }
            try self.audit(
                db, kind == .timeOff ? "expert.leave.remove" : "expert.extra.remove", "expert \(expert.expert.id)",
                "removed \(kind == .timeOff ? "time off" : "extra availability") #\(id)")
        }
    }

    /// The expert's free intervals in `range`: weekly hours plus extra availability, minus time off.
    public func availability(expert ref: String, range: Interval) async throws -> (Expert, [Interval]) {
        try AvailabilityResolver.checkRange(range, what: "the range")
        guard range.duration <= AvailabilityResolver.maximumSpan else {
            throw MediationError.said(
                .invalidInput, field: "to", en: "the range is longer than a year; ask for a shorter range",
                zh: "查询的时间范围超过一年，请缩短范围")
        }
        return try await read { db in
            let record = try Self.findExpert(ref, db)
            let expert = record.expert
            let off = try Self.fetchSpans(.timeOff, expertId: expert.id, overlapping: range, db).map(\.interval)
            let extra = try Self.fetchSpans(.extra, expertId: expert.id, overlapping: range, db).map(\.interval)
            let zone = try Zone(expert.timeZone)
            let free = AvailabilityResolver.free(
                weekly: expert.weeklyHours, zone: zone, extra: extra, timeOff: off, range: range)
            return (expert, free)
        }
    }

    // MARK: Roster

    /// Creates or updates every roster row in one transaction, matching on mobile, else email.
    /// On a dry run nothing is written. Rows equal to the stored expert are left alone.
    ///
    /// - Throws: `invalidInput` listing every row with an unknown office, or a clash with another expert.
    public func importRoster(_ rows: [Roster.Row], dryRun: Bool) async throws -> ImportReport {
        let now = clock.now()
        let work: @Sendable (Database) throws -> ImportReport = { db in
            var report = ImportReport(dryRun: dryRun)
            // Each problem of a line in both languages, as the roster's own reading says them (`Roster.failure`).
            var problems: [FieldProblem] = []
            func add(_ line: Int, _ en: String, _ zh: String) {
                problems.append(FieldProblem(field: String(line), en: "line \(line): \(en)", zh: "第 \(line) 行：\(zh)"))
            }
            func add(_ line: Int, _ e: MediationError) {
                for message in e.details.isEmpty ? [e.message] : e.details {
                    add(line, message, e.fields.first { $0.en == message }?.zh ?? e.message(in: .zh))
                }
            }
            let known = Set(try String.fetchAll(db, sql: "SELECT id FROM office"))
            var plans: [(line: Int, record: ExpertRecord?, expert: Expert)] = []
            for row in rows {
                let unknown = row.expert.offices.filter { !known.contains($0) }
                if !unknown.isEmpty {
                    add(
                        row.line, Roster.unknownOffices(unknown, known: known),
                        Roster.unknownOfficesChinese(unknown, known: known))
                    continue
                }
                var existing: ExpertRecord?
                if let mobile = row.expert.mobile {
                    existing = try ExpertRecord.filter(ExpertRecord.Columns.mobile == mobile).fetchOne(db)
                }
                if existing == nil, let email = row.expert.email {
                    existing = try ExpertRecord.filter(ExpertRecord.Columns.email == email).fetchOne(db)
                    // Matched on email alone: a different mobile in the row means two people, not one.
                    if let stored = existing?.expert, let rowMobile = row.expert.mobile,
                        let storedMobile = stored.mobile,
                        rowMobile != storedMobile
                    {
                        add(
                            row.line,
                            "email \(stored.email ?? "") belongs to expert #\(stored.id) \(stored.name), whose mobile is "
                                + "\(Contact.maskMobile(storedMobile)), not \(rowMobile); correct the row, or change that expert first",
                            "邮箱 \(stored.email ?? "") 属于专家 \(stored.name)（#\(stored.id)），其手机号为 "
                                + "\(Contact.maskMobile(storedMobile))，不是 \(rowMobile)；请改正这一行，或先修改那位专家")
                        continue
                    }
                }
                guard let stored = existing else {
                    plans.append((row.line, nil, row.expert))
                    continue
                }
                do {
                    plans.append((row.line, stored, try row.merged(into: stored.expert)))
                } catch let e as MediationError {
                    add(row.line, e)
                }
            }
            guard problems.isEmpty else { throw Roster.failure(problems) }
            for plan in plans {
                let expert = plan.expert
                if let existing = plan.record {
                    if existing.expert == expert {
                        report.unchanged.append(plan.line)
                        continue
                    }
                    do { try Self.checkUnique(expert, db) } catch let e as MediationError {
                        add(plan.line, e)
                        continue
                    }
                    let record = ExpertRecord(expert, createdAt: existing.createdAt, updatedAt: now)
                    try record.update(db)
                    report.updated.append(plan.line)
                    if existing.expert.active && !expert.active {
                        report.deactivated.append(plan.line)
                        let seats = try Self.seatWarnings(
                            expert, during: Interval(start: now, end: .distantFuture), db,
                            because: (
                                "line \(plan.line) of the roster takes them out of the pool", "花名册第 \(plan.line) 行将其停用"
                            ))
                        report.warnings += seats.map(\.said)
                        report.seatSessions += seats.map(\.session)
                    }
                } else {
                    do { try Self.checkUnique(expert, db) } catch let e as MediationError {
                        add(plan.line, e)
                        continue
                    }
                    var record = ExpertRecord(expert, createdAt: now, updatedAt: now)
                    try record.insert(db)
                    report.created.append(plan.line)
                }
            }
            guard problems.isEmpty else { throw Roster.failure(problems) }
            try self.audit(
                db, "expert.import", "roster",
                "\(report.created.count) created, \(report.updated.count) updated, \(report.unchanged.count) unchanged"
                    + (report.deactivated.isEmpty ? "" : ", \(report.deactivated.count) taken out of the pool"))
            return report
        }
        if dryRun {
            // The plan runs for real, so a dry run catches every clash, and is then rolled back.
            do {
                return try await writer.writeWithoutTransaction { db in
                    var report = ImportReport(dryRun: true)
                    try db.inTransaction {
                        report = try work(db)
                        return .rollback
                    }
                    return report
                }
            } catch { throw refused(error) }
        }
        return try await write(work)
    }

    // MARK: Helpers inside transactions

    /// What an update changed, field by field, for the audit line (mobiles masked).
    static func expertChanges(_ a: Expert, _ b: Expert) -> String {
        changed([
            ("name", a.name, b.name), ("role", a.role.rawValue, b.role.rawValue),
            ("active", "\(a.active)", "\(b.active)"),
            ("mobile", a.mobile.map(Contact.maskMobile) ?? "-", b.mobile.map(Contact.maskMobile) ?? "-"),
            ("email", a.email ?? "-", b.email ?? "-"),
            (
                "offices", a.servesAllOffices ? "all" : a.offices.joined(separator: ","),
                b.servesAllOffices ? "all" : b.offices.joined(separator: ",")
            ),
            ("specialties", a.specialties.joined(separator: ","), b.specialties.joined(separator: ",")),
            ("languages", a.languages.joined(separator: ","), b.languages.joined(separator: ",")),
            ("hours", "\(a.weeklyHours)", "\(b.weeklyHours)"), ("time zone", a.timeZone, b.timeZone),
            ("max per day", "\(a.maxSessionsPerDay)", "\(b.maxSessionsPerDay)"),
            ("max per week", "\(a.maxSessionsPerWeek)", "\(b.maxSessionsPerWeek)"),
            ("notes", a.notes ?? "-", b.notes ?? "-"),
        ])
    }

    static func findExpert(_ ref: String, _ db: Database) throws -> ExpertRecord {
        var r = Text.halfWidth(ref).trimmingWhitespace()
        // "#12" is how listings show ids; a '#' inside a name stays.
        if r.hasPrefix("#"), r.dropFirst().allSatisfy(\.isNumber) { r.removeFirst() }
        guard !r.isEmpty else {
            throw MediationError.said(
                .invalidInput, en: "no expert given; name one by id, mobile, email or full name",
                zh: "没有填写专家，请填写专家的编号、手机号、邮箱或全名")
        }
        if let id = Int64(r), r.count < 10,
            let record = try ExpertRecord.fetchOne(
                cached: db, sql: "SELECT * FROM expert WHERE id = ?", arguments: [id])
        {
            return record
        }
        if let mobile = Contact.normalizeMobile(r),
            let record = try ExpertRecord.filter(ExpertRecord.Columns.mobile == mobile).fetchOne(db)
        {
            return record
        }
        if r.contains("@"),
            let record = try ExpertRecord.filter(ExpertRecord.Columns.email == r.lowercased()).fetchOne(db)
        {
            return record
        }
        let named = try ExpertRecord.filter(ExpertRecord.Columns.name == r).order(ExpertRecord.Columns.id).fetchAll(db)
        if named.count == 1 { return named[0] }
        if named.count > 1 {
            let list = named.map {
                "#\($0.expert.id) (\($0.expert.role.rawValue), \($0.expert.mobile.map(Contact.maskMobile) ?? $0.expert.email ?? "-"))"
            }
            let listZh = named.map {
                "#\($0.expert.id)（\(Words.expertRole($0.expert.role, .zh))，\($0.expert.mobile.map(Contact.maskMobile) ?? $0.expert.email ?? "-")）"
            }
            throw MediationError.said(
                .invalidInput,
                en: "\(named.count) experts are named \(r): \(list.joined(separator: ", ")); give the id instead",
                zh: "有 \(named.count) 位专家叫“\(r)”：\(listZh.joined(separator: "、"))；请改填专家编号")
        }
        // A name typed with one slip gets the names it is one character away from.
        let names = try String.fetchAll(db, sql: "SELECT name FROM expert ORDER BY id")
        let guess = NameSuggestion.didYouMean(r, among: names)
        let near = NameSuggestion.near(r, among: names)
        throw MediationError.said(
            .notFound,
            en: "no expert '\(ref)'" + (guess.map { "; \($0)" } ?? "")
                + "; give an id, mobile, email or full name as 'expert list' shows them",
            zh: "找不到专家“\(ref)”"
                + (near.isEmpty ? "；" : "，是不是“" + near.joined(separator: "”或“") + "”？")
                + "请填写 'expert list' 中的编号、手机号、邮箱或全名")
    }

    static func checkOffices(_ expert: Expert, _ db: Database) throws {
        guard !expert.servesAllOffices else { return }
        let known = Set(try String.fetchAll(db, sql: "SELECT id FROM office"))
        let unknown = expert.offices.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw MediationError.said(
                .invalidInput, field: "office",
                en: "office \(unknown.map { "'\($0)'" }.joined(separator: ", ")) does not exist; "
                    + (known.isEmpty
                        ? "add the office first with 'office add'"
                        : "known offices: \(known.sorted().joined(separator: ", "))"),
                zh: "调解室“\(unknown.joined(separator: "、"))”不存在；"
                    + (known.isEmpty
                        ? "请先用 'office add' 添加调解室" : "现有调解室：\(known.sorted().joined(separator: "、"))"))
        }
    }

    static func checkUnique(_ expert: Expert, _ db: Database) throws {
        if let mobile = expert.mobile,
            let other = try ExpertRecord.filter(ExpertRecord.Columns.mobile == mobile)
                .filter(ExpertRecord.Columns.id != expert.id).fetchOne(db)
        {
            throw MediationError.said(
                .conflict, field: "mobile",
                en:
                    "mobile \(mobile) already belongs to expert #\(other.expert.id) \(other.expert.name); update that expert instead of adding another",
                zh: "手机号 \(mobile) 已属于专家 \(other.expert.name)（#\(other.expert.id)）；请修改这位专家，不要重复添加")
        }
        if let email = expert.email,
            let other = try ExpertRecord.filter(ExpertRecord.Columns.email == email)
                .filter(ExpertRecord.Columns.id != expert.id).fetchOne(db)
        {
            throw MediationError.said(
                .conflict, field: "email",
                en:
                    "email \(email) already belongs to expert #\(other.expert.id) \(other.expert.name); update that expert instead of adding another",
                zh: "邮箱 \(email) 已属于专家 \(other.expert.name)（#\(other.expert.id)）；请修改这位专家，不要重复添加")
        }
    }

    static func fetchSpans(_ kind: AppDatabase.SpanKind, expertId: Int64, overlapping range: Interval?, _ db: Database)
        throws -> [Span]
    {
        var sql = "SELECT * FROM \(kind.rawValue) WHERE expert_id = ?"
        var arguments: StatementArguments = [expertId]
        if let range {
            sql += " AND starts_at < ? AND ends_at > ?"
            arguments += [range.end.epoch, range.start.epoch]
        }
        let records = try Row.fetchAll(db, sql: sql + " ORDER BY starts_at, id", arguments: arguments).map {
            try ExpertSpanRecord(row: $0, table: kind.rawValue)
        }
        return records.map { Span(id: $0.id, expertId: $0.expertId, interval: $0.interval, note: $0.note) }
    }
}
