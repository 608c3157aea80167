import Foundation
import GRDB
import MediationCore

/// What `findSlots` answers: the finder's answer and what it was asked, with names for display.
public struct SlotFinding: Sendable {
    public var dispute: Dispute
    public var policy: String
    public var requirements: [PanelRequirement]
    public var durationMinutes: Int
    public var answer: SlotAnswer
    public var names: [Int64: String]
    /// Why the search ignored the office's hours; nil when it kept to them.
    public var outsideHoursReason: String?
}

/// Names and zones for showing sessions.
public struct SessionDisplay: Sendable {
    public var numbers: [Int64: String] = [:]
    public var names: [Int64: String] = [:]
    /// Office id → the office's zone.
    public var zones: [String: Zone] = [:]
    /// Dispute id → the dispute's title.
    public var titles: [Int64: String] = [:]
}

/// A booked session and what the API shows beside it, read in the booking's transaction.
public struct BookedSession: Sendable {
    public var session: Session
    public var display: SessionDisplay
}

/// A possible substitute for one panel seat.
public struct Substitute: Sendable, Equatable {
    public var expertId: Int64
    public var name: String
    public var sessionsLast30Days: Int
}

/// Which sessions a listing returns.
public struct SessionFilter: Sendable, Equatable {
    public var dispute: String?
    public var office: String?
    public var range: Interval?
    public var status: SessionStatus?
    /// Whether each session's panel is read too (a page that only counts sessions need not).
    public var withPanels = true

    public init(dispute: String? = nil, office: String? = nil, range: Interval? = nil, status: SessionStatus? = nil) {
        self.dispute = dispute
        self.office = office
        self.range = range
        self.status = status
    }
}

extension AppDatabase {
    // MARK: Finding

    /// Proposes session times for a dispute, and remembers them so that `bookOption` can book one. With
    /// `outsideHours` (why), the office's hours do not apply (its holidays do) and the options booked from this
    /// search are booked outside them.
    ///
    /// - Parameter everyStart: every start with a panel, instead of options spread over half-days.
    /// - Throws: `invalidInput` for a bad request (the finder's messages), `notFound`.
    public func findSlots(
        dispute ref: String, policy: String?, durationMinutes: Int?, window: Interval, pinned: [Int64],
        excluded: [Int64], rules: SchedulingRules, maxOptions: Int, everyStart: Bool = false,
        outsideHours: String? = nil
    ) async throws -> SlotFinding {
        let outsideHours = try Self.outsideHoursReason(outsideHours)
        let now = clock.now()
        return try await write { db in
            let dispute = try Self.findDispute(ref, db).dispute
            guard [.open, .unresolved, .scheduled].contains(dispute.status) else {
                throw MediationError.said(
                    .conflict,
                    en: "dispute \(dispute.number) is \(dispute.status.rawValue); it cannot be scheduled now"
                        + (dispute.status == .closed
                            ? " (reopen it first: 'dispute reopen \(dispute.number) --reason …')" : ""),
                    zh: "纠纷 \(dispute.number) 现在是“\(Words.disputeStatus(dispute.status, .zh))”，不能预约"
                        + (dispute.status == .closed ? "（请先在案卷里重新立案）" : ""))
            }
            let policyName = rules.policyName(requested: policy, category: dispute.category)
            guard let chosen = try Self.fetchPolicies(db, name: policyName).first else {
                let names = try Self.fetchPolicies(db, name: nil).map(\.name)
                throw MediationError.said(
                    .invalidInput, field: "policy",
                    en: "no panel policy '\(policyName)'; policies: \(names.joined(separator: ", "))",
                    zh: "没有名为“\(policyName)”的组成规则；现有：\(names.joined(separator: "、"))")
            }
            let requirements = chosen.requirements(for: dispute.risk, legalOfficerFrom: rules.legalOfficerFromRisk)
            let office = try Self.officeOf(dispute, db)
            let duration = durationMinutes ?? office.defaultSessionMinutes
            var search = try Self.slotSearch(
                db, dispute: dispute, office: office, requirements: requirements, duration: duration, window: window,
                pinned: pinned, excluded: excluded, rules: rules, now: now, maxOptions: maxOptions, ignoring: nil,
                newcomers: pinned, outsideHours: outsideHours != nil)
            search.everyStart = everyStart
            let answer = try SlotFinder.find(search)
            let encoder = JSONEncoder()
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO session_search (dispute_id, duration_minutes, requirements, options, created_at,
                      outside_hours_reason)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    dispute.id, duration, RequirementsColumn.encode(requirements),
                    String(decoding: try encoder.encode(answer.options), as: UTF8.self), now.epoch, outsideHours,
                ])
            let names = Dictionary(uniqueKeysWithValues: search.candidates.map { ($0.id, $0.name) })
            return SlotFinding(
                dispute: dispute, policy: chosen.name, requirements: requirements, durationMinutes: duration,
                answer: answer, names: names, outsideHoursReason: outsideHours)
        }
    }

    /// The reason for booking outside office hours, checked as every reason is: nil stays nil (inside the hours);
    /// given, it must say something.
    ///
    /// - Throws: `invalidInput` for an empty or unreadable reason.
    static func outsideHoursReason(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard let why = Text.nonEmpty(text) else {
            throw MediationError.said(
                .invalidInput, field: "reason",
                en: "a session outside office hours needs a reason; say why with --reason, for example --reason "
                    + "'当事人只能晚上参加'",
                zh: "在办公时间以外安排调解须说明原因，请用 --reason 填写，例如 --reason '当事人只能晚上参加'")
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        return why
    }

    // MARK: Booking

    /// Books option `number` (1-based) of the dispute's last search.
    ///
    /// - Throws: `invalidInput` when there is no such option; `conflict` when it is no longer free.
    public func bookOption(
        dispute ref: String, number: Int, rules: SchedulingRules, room: String?, actor: Actor,
        outsideHours: String? = nil
    ) async throws -> Session {
        try await bookOptionShown(
            dispute: ref, number: number, rules: rules, room: room, actor: actor, outsideHours: outsideHours
        ).session
    }

    /// `bookOption`, with what the API shows beside the session read in the same transaction. An option found
    /// outside office hours is booked outside them with its search's reason (or `outsideHours`, which replaces it);
    /// `outsideHours` for an option found inside them is refused, since that search never looked outside.
    public func bookOptionShown(
        dispute ref: String, number: Int, rules: SchedulingRules, room: String?, actor: Actor,
        outsideHours: String? = nil
    ) async throws -> BookedSession {
        let asked = try Self.outsideHoursReason(outsideHours)
        let now = clock.now()
        return try await groupWrite { db in
            let disputeRecord = try Self.findDispute(ref, db)
            let dispute = disputeRecord.dispute
            guard let row = try db.cachedRow("SELECT * FROM session_search WHERE dispute_id = ?", [dispute.id])
            else {
                throw MediationError.said(
                    .invalidInput,
                    en: "dispute \(dispute.number) has no search to book from; "
                        + "run 'session find \(dispute.number) --from DATE --to DATE' first",
                    zh: "纠纷 \(dispute.number) 还没有查找过可约时间，无从预约；"
                        + "请先运行 'session find \(dispute.number) --from DATE --to DATE'")
            }
            let search = StoredRow(row, table: "session_search", key: "of dispute \(dispute.number)")
            let options = try search.parsed(Column("options"), as: "a JSON list of options") {
                try? JSONDecoder().decode([SlotOption].self, from: Data($0.utf8))
            }
            guard options.indices.contains(number - 1) else {
                if options.isEmpty {
                    throw MediationError.said(
                        .invalidInput,
                        en: "the last search for \(dispute.number) found no option to book; "
                            + "search other days with 'session find \(dispute.number) --from DATE --to DATE', or book "
                            + "a time and panel with --at TIME --panel EXPERT",
                        zh: "上次为纠纷 \(dispute.number) 查找时间，没有找到可预约的选项；请用 "
                            + "'session find \(dispute.number) --from DATE --to DATE' 查找其他日期，"
                            + "或用 --at TIME --panel EXPERT 直接指定时间和专家组")
                }
                let range = options.count == 1 ? "--option 1" : "--option 1 to \(options.count)"
                throw MediationError.said(
                    .invalidInput,
                    en:
                        "option \(number) does not exist; the last search for \(dispute.number) had \(options.count) option\(options.count == 1 ? "" : "s"); give \(range), or search again",
                    zh: "没有第 \(number) 个选项：上次为纠纷 \(dispute.number) 找到 \(options.count) 个选项；请选择 "
                        + (options.count == 1 ? "--option 1" : "--option 1 至 \(options.count)") + "，或重新查找")
            }
            let option = options[number - 1]
            let searched: String? = try search.optional(Column("outside_hours_reason"))
            if asked != nil && searched == nil {
                throw MediationError.said(
                    .invalidInput,
                    en: "option \(number) of \(dispute.number) was found inside office hours; "
                        + "search outside them with 'session find \(dispute.number) --from … --to … "
                        + "--outside-hours --reason …', then book an option of that search",
                    zh: "纠纷 \(dispute.number) 的第 \(number) 个选项是在办公时间内找到的；要在办公时间以外预约，请先用 "
                        + "'session find \(dispute.number) --from … --to … --outside-hours --reason …' 查找，"
                        + "再预约那次查找到的选项")
            }
            let requirements = try search.parsed(
                Column("requirements"), as: RequirementsColumn.form, RequirementsColumn.decode)
            let office = try Self.officeOf(dispute, db, cache: self.writerCache)
            return try Self.book(
                db, dispute: disputeRecord, office: office, start: option.start,
                duration: try search.value(Column("duration_minutes")),
                requirements: requirements, panel: option.panel.map(\.expertId), rules: rules, room: room, actor: actor,
                now: now, cache: self.writerCache, outsideHours: asked ?? searched)
        }
    }

    /// Books an explicit time and panel; every constraint is checked again inside the write transaction.
    ///
    /// - Throws: `conflict` naming the clash when an expert is no longer free; `invalidInput` for a panel that
    ///   breaks the policy.
    public func book(
        dispute ref: String, start: Date, durationMinutes: Int?, panel: [Int64], policy: String?,
        rules: SchedulingRules, room: String?, actor: Actor, outsideHours: String? = nil
    ) async throws -> Session {
        let outsideHours = try Self.outsideHoursReason(outsideHours)
        let now = clock.now()
        return try await groupWrite { db in
            try Self.book(
                db, dispute: Self.findDispute(ref, db), start: { _ in start }, durationMinutes: durationMinutes,
                panel: panel, policy: policy, rules: rules, room: room, actor: actor, now: now, cache: self.writerCache,
                outsideHours: outsideHours
            ).session
        }
    }

    /// Books an explicit time and panel as a request names them: the dispute by number, the start as typed (in the
    /// office's zone) and the experts by id, mobile, email or name; all resolved, checked, booked and read back
    /// for display in one transaction.
    ///
    /// - Throws: `notFound` for the dispute; `invalidInput` for an unknown expert or a bad time; `conflict` as `book`.
    public func book(
        dispute ref: String, start: @escaping @Sendable (Zone) throws -> Date, durationMinutes: Int?, panel: [String],
        policy: String?, rules: SchedulingRules, room: String?, actor: Actor, outsideHours: String? = nil
    ) async throws -> BookedSession {
        let outsideHours = try Self.outsideHoursReason(outsideHours)
        let now = clock.now()
        return try await groupWrite { db in
            // Ids (as listings and the API give them) are checked together, from the writer's cache; other
            // references one by one.
            let known = try self.writerCache.experts(panel.compactMap { $0.count < 10 ? Int64($0) : nil }, db)
            let ids = try panel.map { ref in
                if ref.count < 10, let id = Int64(ref), known[id] != nil { return id }
                do { return try Self.findExpert(ref, db).expert.id } catch let e as MediationError
                    where e.kind == .notFound
                {
                    throw MediationError(.invalidInput, e.message, fields: e.fields)
                }
            }
            return try Self.book(
                db, dispute: Self.findDispute(ref, db), start: start, durationMinutes: durationMinutes, panel: ids,
                policy: policy, rules: rules, room: room, actor: actor, now: now, cache: self.writerCache,
                outsideHours: outsideHours)
        }
    }

    /// The policy's requirements and the office's default length, then `book`.
    private static func book(
        _ db: Database, dispute record: DisputeRecord, start: (Zone) throws -> Date, durationMinutes: Int?,
        panel: [Int64], policy: String?, rules: SchedulingRules, room: String?, actor: Actor, now: Date,
        cache: WriterCache, outsideHours: String?
    ) throws -> BookedSession {
        let dispute = record.dispute
        let name = rules.policyName(requested: policy, category: dispute.category)
        guard let chosen = try cache.policies(named: name, db).first else {
            throw MediationError.said(
                .invalidInput, field: "policy", en: "no panel policy '\(name)'", zh: "没有名为“\(name)”的组成规则")
        }
        let requirements = chosen.requirements(for: dispute.risk, legalOfficerFrom: rules.legalOfficerFromRisk)
        let office = try Self.officeOf(dispute, db, cache: cache)
        guard !panel.isEmpty else {
            throw MediationError.said(
                .invalidInput, en: "an explicit booking needs its panel; give --panel EXPERT for each seat",
                zh: "指定时间预约须同时指定专家组，请为每个席位用 --panel EXPERT 指定一位专家")
        }
        return try Self.book(
            db, dispute: record, office: office, start: start(try Zone(office.timeZone)),
            duration: durationMinutes ?? office.defaultSessionMinutes, requirements: requirements, panel: panel,
            rules: rules, room: room, actor: actor, now: now, cache: cache, outsideHours: outsideHours)
    }

    static func book(
        _ db: Database, dispute disputeRecord: DisputeRecord, office: Office, start: Date, duration: Int,
        requirements: [PanelRequirement], panel: [Int64], rules: SchedulingRules, room: String?, actor: Actor,
        now: Date, cache: WriterCache, outsideHours: String? = nil
    ) throws -> BookedSession {
        let dispute = disputeRecord.dispute
        guard [.open, .unresolved].contains(dispute.status) else {
            if dispute.status == .scheduled,
                let booked = try Int64.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT id FROM session WHERE dispute_id = ? AND status = 'booked' ORDER BY starts_at"),
                    arguments: [dispute.id])
            {
                throw MediationError.said(
                    .conflict,
                    en:
                        "dispute \(dispute.number) already has session #\(booked) booked; reschedule or cancel it first",
                    zh: "纠纷 \(dispute.number) 已经预约了调解场次 #\(booked)；请先改期或取消它")
            }
            throw MediationError.said(
                .conflict, en: "dispute \(dispute.number) is \(dispute.status.rawValue); it cannot be scheduled now",
                zh: "纠纷 \(dispute.number) 现在是“\(Words.disputeStatus(dispute.status, .zh))”，不能预约")
        }
        var names: [Int64: String] = [:]
        let seats = try Self.checkSlot(
            db, dispute: dispute, start: start, duration: duration, requirements: requirements, panel: panel,
            rules: rules, now: now, ignoring: nil, office: office, names: &names, cache: cache,
            outsideHours: outsideHours != nil)
        var record = SessionRecord(
            Session(
                disputeId: dispute.id, officeId: dispute.officeId, start: start,
                end: start.addingTimeInterval(TimeInterval(duration * 60)), room: room, panel: seats,
                outsideHoursReason: outsideHours),
            createdAt: now, updatedAt: now)
        try record.insertRow(db)
        try record.savePanel(db, replacing: false)
        let before = dispute.status
        try before.check(.scheduled, dispute: dispute.number)
        try db.cachedExecute(
            "UPDATE dispute SET status = ?, updated_at = ? WHERE id = ?",
            [DisputeStatus.scheduled.rawValue, now.epoch, dispute.id])
        try Self.recordStatus(
            db, dispute: dispute.id, from: before, to: .scheduled, reason: "session #\(record.session.id) booked",
            actor: actor, at: now)
        try Self.queueBooking(db, session: record.session, rules: rules, now: now)
        try Self.audit(
            db, at: now, "session.book", "session \(record.session.id)",
            "booked for dispute \(dispute.number) at \(try Zone(office.timeZone).format(start)), "
                + "\(duration) min, panel "
                + seats.map { "#\($0.expertId)" }.joined(separator: " ")
                + (outsideHours.map { ", outside office hours: \($0)" } ?? ""))
        // What the API shows beside the session, from what the booking has read already.
        return BookedSession(
            session: record.session,
            display: SessionDisplay(
                numbers: [dispute.id: dispute.number], names: names, zones: [office.id: try Zone(office.timeZone)],
                titles: [dispute.id: dispute.title]))
    }

    /// Every constraint for one start and panel, inside the caller's transaction; returns the seats.
    static func checkSlot(
        _ db: Database, dispute: Dispute, start: Date, duration: Int, requirements: [PanelRequirement], panel: [Int64],
        rules: SchedulingRules, now: Date, ignoring session: Int64?, office known: Office?,
        names: inout [Int64: String], cache: WriterCache, newcomers: [Int64]? = nil, outsideHours: Bool = false
    ) throws -> [PanelMember] {
        guard !panel.isEmpty else {
            throw MediationError.said(.invalidInput, en: "the panel is empty; name its experts", zh: "专家组是空的，请选择专家")
        }
        let end = start.addingTimeInterval(TimeInterval(duration * 60))
        let buffer = TimeInterval(rules.bufferMinutes * 60)
        // A clash with a booked session is what a refused booking hears first, so the loser of a race hears
        // exactly what it lost to (the first clashing expert in panel order). It is looked for only once the
        // finder has refused: the finder refuses every clash (it widens each session by the same buffer, and
        // counts ended sessions too), so a panel it accepts has none, and most bookings skip the query.
        func clash() throws -> MediationError? {
            guard
                let row = try db.cachedRow(
                    """
                    SELECT p.session_id AS id, e.id AS expert_id, e.name FROM json_each(?) j
                    CROSS JOIN session_panel p INDEXED BY session_panel_on_expert_schedule
                      ON p.expert_id = j.value AND p.starts_at < ? AND p.ends_at > ? AND p.starts_at > ?
                    JOIN expert e ON e.id = p.expert_id
                    WHERE p.status IN ('booked', 'in_session') AND p.session_id IS NOT ?
                    ORDER BY j.key LIMIT 1
                    """,
                    [
                        jsonIDs(panel), end.addingTimeInterval(buffer).epoch, start.addingTimeInterval(-buffer).epoch,
                        start.addingTimeInterval(-buffer - Self.longestSession).epoch, session,
                    ])
            else { return nil }
            let r = StoredRow(row, table: "session_panel")
            let name: String = try r.value(Column("name"))
            let other: Int64 = try r.value(Column("id"))
            let expertId: Int64 = try r.value(Column("expert_id"))
            return MediationError.said(
                .conflict, field: "start",
                en: "expert #\(expertId) \(name) is already booked for session #\(other) at that time; "
                    + "choose another time or panel (search again with 'session find')",
                zh: "专家 \(name)（#\(expertId)）这个时间已在调解场次 #\(other) 中；请换一个时间，或重新查找可约时间")
        }
        // A time outside the office's hours, or on a holiday, is said as such (the finder, asked about one start,
        // would speak of its window).
        func outsideOffice() throws -> MediationError? {
            let office = try known ?? officeOf(dispute, db, cache: cache)
            let zone = try Zone(office.timeZone)
            let day = zone.wallClock(start).date
            if rules.holidays.contains(day) {
                return MediationError.said(
                    .invalidInput, field: "start", en: "\(day) is a holiday in the configuration; choose another day",
                    zh: "\(Words.day(day, .zh)) 是节假日，请换一天")
            }
            // Outside office hours only the holidays hold (the finder's rule, `SlotSearch.outsideOfficeHours`).
            guard !outsideHours else { return nil }
            // One window must hold the whole session: the finder does not run a session from one into the next.
            let held = office.workingHours.contains { window in
                AvailabilityResolver.expand([window], in: zone, over: Interval(start: start, end: end)).contains {
                    $0.start <= start && $0.end >= end
                }
            }
            guard !held else { return nil }
            return MediationError.said(
                .invalidInput, field: "start",
                en: "\(zone.format(start)) to \(zone.format(end)) is outside the office hours of \(office.id) "
                    + "(\(WeeklyWindow.format(office.workingHours))); choose a time inside them, or 'session find' "
                    + "for free times",
                zh: "\(Words.moment(start, zone, .zh))–\(Words.moment(end, zone, .zh).suffix(5)) 不在\(office.name)的办公时间内"
                    + "（\(Words.hours(office.workingHours, .zh))），请选择办公时间内的时间，或重新查找可约时间")
        }
        if Set(panel).count != panel.count {
            let twice = panel.first { id in panel.filter { $0 == id }.count > 1 } ?? 0
            throw MediationError.said(
                .invalidInput, en: "expert #\(twice) is named twice on the panel; name each seat's expert once",
                zh: "专家 #\(twice) 在专家组里出现了两次，每个席位只能选一位专家")
        }
        // A time off the finder's grid, gone by, or too soon to tell everyone: said as such (after a clash, which is
        // heard first), not as "nothing fits" or "outside office hours".
        func timeProblem() -> MediationError? {
            let step = SlotSearch.defaultStepMinutes
            if Int(start.timeIntervalSince1970 / 60) % step != 0
                || start.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) != 0
            {
                return MediationError.said(
                    .invalidInput, field: "start",
                    en:
                        "sessions start on the quarter hour (:00, :15, :30 or :45); give such a time, for example 14:15",
                    zh: "调解须在整刻开始（:00、:15、:30 或 :45），请改填这样的时间，例如 14:15")
            }
            if start <= now {
                return MediationError.said(
                    .invalidInput, field: "start", en: "that time has already passed; give a later time",
                    zh: "这个时间已经过去，请填写以后的时间")
            }
            if start < now.addingTimeInterval(TimeInterval(rules.minimumNoticeMinutes * 60)) {
                return MediationError.said(
                    .invalidInput, field: "start",
                    en: "that time is less than the minimum notice of \(rules.minimumNoticeMinutes) minutes away; "
                        + "give a later time",
                    zh: "距现在不足最短提前通知时间（\(rules.minimumNoticeMinutes) 分钟），来不及通知各方，请填写以后的时间")
            }
            return nil
        }
        let search: SlotSearch
        let answer: SlotAnswer
        do {
            let office = try known ?? officeOf(dispute, db, cache: cache)
            search = try slotSearch(
                db, dispute: dispute, office: office, requirements: requirements, duration: duration,
                window: Interval(start: start, end: end), pinned: panel, excluded: [], rules: rules, now: now,
                maxOptions: 1, ignoring: session, recheckingOn: cache, newcomers: newcomers ?? panel,
                outsideHours: outsideHours)
            answer = try SlotFinder.find(search)
        } catch {
            throw try clash() ?? timeProblem() ?? outsideOffice() ?? error
        }
        guard let option = answer.options.first, option.start == start,
            Set(option.panel.map(\.expertId)) == Set(panel), option.panel.count == panel.count
        else {
            if let clash = try clash() { throw clash }
            if let problem = timeProblem() { throw problem }
            if let outside = try outsideOffice() { throw outside }
            if panel.count != requirements.reduce(0, { $0 + $1.count }) {
                throw MediationError.said(
                    .invalidInput,
                    en: "the panel has \(panel.count) experts but the policy asks for "
                        + requirements.map(\.description).joined(separator: ", "),
                    zh: "专家组有 \(panel.count) 位专家，但组成规则要求 \(requirements.reduce(0) { $0 + $1.count }) 位")
            }
            throw MediationError.said(
                .conflict, field: "start",
                en: "that time and panel are not free: "
                    + (answer.reasons.isEmpty
                        ? "an expert or a party is not available" : answer.reasons.joined(separator: "; ")),
                zh: "这个时间专家组或当事人没有空："
                    + (answer.reasonsChinese.isEmpty
                        ? "有专家或当事人不方便" : answer.reasonsChinese.joined(separator: "；")))
        }
        let leadIndex =
            option.panel.firstIndex { requirements[$0.requirementIndex].role == .legalOfficer } ?? 0
        names = Dictionary(search.candidates.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        return option.panel.enumerated().map { i, seat in
            PanelMember(
                expertId: seat.expertId, requirementIndex: seat.requirementIndex,
                requirement: requirements[seat.requirementIndex], lead: i == leadIndex)
        }
    }

    /// `checkSlot` for callers that do not show names.
    static func checkSlot(
        _ db: Database, dispute: Dispute, start: Date, duration: Int, requirements: [PanelRequirement], panel: [Int64],
        rules: SchedulingRules, now: Date, ignoring session: Int64?, office known: Office? = nil,
        cache: WriterCache, newcomers: [Int64]? = nil, outsideHours: Bool = false
    ) throws -> [PanelMember] {
        var names: [Int64: String] = [:]
        return try checkSlot(
            db, dispute: dispute, start: start, duration: duration, requirements: requirements, panel: panel,
            rules: rules, now: now, ignoring: session, office: known, names: &names, cache: cache,
            newcomers: newcomers, outsideHours: outsideHours)
    }

    // MARK: Changing sessions

    /// Moves a booked session to another time; the panel stays, every constraint is checked again.
    public func reschedule(session id: Int64, to start: Date, rules: SchedulingRules, actor: Actor) async throws
        -> Session
    {
        let now = clock.now()
        return try await groupWrite { db in
            var record = try Self.findSession(id, db)
            guard record.session.status == .booked else {
                throw MediationError.said(
                    .conflict, field: "start",
                    en: "session #\(id) is \(record.session.status.rawValue); only a booked session can be rescheduled",
                    zh: "这场调解现在是“\(Words.sessionStatus(record.session.status, .zh))”，只有已预约的调解才能改期")
            }
            let zone = try Self.officeZone(record.session.officeId, db)
            guard start != record.session.start else {
                throw MediationError.said(
                    .invalidInput, field: "start",
                    en:
                        "session #\(id) already starts at \(zone.format(start)); nothing to move; give the new time with --to",
                    zh: "这场调解本来就在 \(Words.moment(start, zone, .zh)) 开始，请填写新的时间")
            }
            let dispute = try Self.findDispute(String(record.session.disputeId), db).dispute
            let duration = Int(record.session.interval.duration / 60)
            let seats = try Self.checkSlot(
                db, dispute: dispute, start: start, duration: duration,
                requirements: record.session.panel.sorted { $0.requirementIndex < $1.requirementIndex }.reduce(
                    into: [PanelRequirement]()
                ) { list, m in
                    if list.count == m.requirementIndex { list.append(m.requirement) }
                }, panel: record.session.panel.map(\.expertId), rules: rules, now: now, ignoring: id,
                cache: self.writerCache, newcomers: [], outsideHours: record.session.outsideHoursReason != nil)
            record.session.start = start
            record.session.end = start.addingTimeInterval(TimeInterval(duration * 60))
            record.session.sequence += 1
            record.session.panel = seats.map { seat in
                var s = seat
                s.lead = record.session.panel.first { $0.expertId == seat.expertId }?.lead ?? seat.lead
                return s
            }
            record.updatedAt = now
            try record.update(db)
            try record.savePanel(db)
            try Self.queueReschedule(db, session: record.session, rules: rules, now: now)
            try self.audit(
                db, "session.reschedule", "session \(id)",
                "dispute \(dispute.number) moved to \(zone.format(start))")
            return record.session
        }
    }

    /// Cancels a booked session with a reason; the dispute goes back to open.
    public func cancel(session id: Int64, reason: String, actor: Actor) async throws -> Session {
        guard let why = Text.nonEmpty(reason) else {
            throw MediationError.said(
                .invalidInput, field: "reason", en: "a cancellation needs a reason; say why with --reason",
                zh: "取消调解须说明原因，请用 --reason 填写")
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        return try await move(session: id, to: .cancelled, actor: actor, reason: why)
    }

    /// Marks a session started (from `rules.startMarginMinutes` before its start), ended (from its start) or a
    /// no-show (from its start).
    ///
    /// - Throws: `conflict` for a move the state machine refuses or one made too early (`Session.checkMarkable`).
    public func mark(session id: Int64, _ status: SessionStatus, rules: SchedulingRules, actor: Actor) async throws
        -> Session
    {
        try await move(session: id, to: status, actor: actor, reason: nil, startMargin: rules.startMarginMinutes)
    }

    private func move(
        session id: Int64, to target: SessionStatus, actor: Actor, reason: String?, startMargin: Int? = nil
    ) async throws -> Session {
        let now = clock.now()
        return try await write { db in
            var record = try Self.findSession(id, db)
            let from = record.session.status
            try from.check(target, session: id)
            if let startMargin {
                let zone = try Self.officeZone(record.session.officeId, db)
                try record.session.checkMarkable(target, now: now, startMarginMinutes: startMargin, zone: zone)
            }
            record.session.status = target
            if target == .cancelled {
                record.session.cancelReason = reason
                record.session.sequence += 1
            }
            record.updatedAt = now
            try record.update(db)
            if target == .cancelled { try Self.queueCancellation(db, session: record.session, now: now) }
            try self.audit(
                db, target == .cancelled ? "session.cancel" : "session.status", "session \(id)",
                "status \(from.rawValue) → \(target.rawValue)" + (reason.map { ": \($0)" } ?? ""))
            // The dispute follows its session.
            var disputeRecord = try Self.findDispute(String(record.session.disputeId), db)
            let before = disputeRecord.dispute.status
            let after: DisputeStatus? =
                switch target {
                case .inSession: .inSession
                case .cancelled, .noShow: before == .scheduled ? .open : nil
                default: nil
                }
            if let after, after != before {
                try before.check(after, dispute: disputeRecord.dispute.number)
                disputeRecord.dispute.status = after
                disputeRecord.updatedAt = now
                try disputeRecord.update(db)
                try Self.recordStatus(
                    db, dispute: disputeRecord.dispute.id, from: before, to: after,
                    reason: "session #\(id) \(target.rawValue)" + (reason.map { ": \($0)" } ?? ""), actor: actor,
                    at: now)
            }
            return record.session
        }
    }

    /// Records a panel member's answer; a decline returns the substitutes for that seat.
    public func rsvp(session id: Int64, expert ref: String, _ answer: Invitation, rules: SchedulingRules) async throws
        -> (Session, [Substitute])
    {
        let now = clock.now()
        let (session, expertId) = try await write { db in
            var record = try Self.findSession(id, db)
            guard record.session.status == .booked else {
                throw MediationError.said(
                    .conflict,
                    en: "session #\(id) is \(record.session.status.rawValue); an answer to the invitation is recorded "
                        + "only while a session is booked",
                    zh: "这场调解现在是“\(Words.sessionStatus(record.session.status, .zh))”，只有已预约时才能记录专家的回复")
            }
            let expert = try Self.findExpert(ref, db).expert
            guard let index = record.session.panel.firstIndex(where: { $0.expertId == expert.id }) else {
                throw MediationError.said(
                    .invalidInput, field: "expert", en: "\(expert.name) is not on the panel of session #\(id)",
                    zh: "\(expert.name) 不在这场调解的专家组里")
            }
            let changed = record.session.panel[index].invitation != answer
            record.session.panel[index].invitation = answer
            try record.savePanel(db)
            if changed { try Self.queueRSVP(db, session: record.session, expert: expert.id, now: now) }
            try self.audit(db, "session.rsvp", "session \(id)", "expert #\(expert.id) \(answer.rawValue)")
            return (record.session, expert.id)
        }
        return (
            session, answer == .declined ? try await substitutes(session: id, replacing: expertId, rules: rules) : []
        )
    }

    /// Experts who could take `expertId`'s seat at the same time, fairest first.
    public func substitutes(session id: Int64, replacing expertId: Int64, rules: SchedulingRules) async throws
        -> [Substitute]
    {
        let now = clock.now()
        return try await read { db in
            let session = try Self.findSession(id, db).session
            guard let seat = session.panel.first(where: { $0.expertId == expertId }) else {
                throw MediationError.said(
                    .invalidInput, field: "expert", en: "expert #\(expertId) is not on the panel of session #\(id)",
                    zh: "专家 #\(expertId) 不在调解场次 #\(id) 的专家组里")
            }
            let dispute = try Self.findDispute(String(session.disputeId), db).dispute
            let office = try Self.officeOf(dispute, db)
            let others = session.panel.filter { $0.expertId != expertId }.map(\.expertId)
            let requirements = Self.requirements(of: session)
            let base = try Self.slotSearch(
                db, dispute: dispute, office: office, requirements: requirements,
                duration: Int(session.interval.duration / 60), window: session.interval, pinned: others,
                excluded: [expertId], rules: rules, now: now, maxOptions: 1, ignoring: id,
                outsideHours: session.outsideHoursReason != nil)
            var result: [Substitute] = []
            for candidate in base.candidates
            where candidate.id != expertId && !others.contains(candidate.id)
                && seat.requirement.admits(
                    role: candidate.role, specialties: Tag.normalize(candidate.specialties),
                    languages: Tag.normalize(candidate.languages))
            {
                var trial = base
                trial.pinned = others + [candidate.id]
                guard let answer = try? SlotFinder.find(trial), answer.options.first?.start == session.start else {
                    continue
                }
                let recent = candidate.sessions.filter {
                    $0.start >= now.addingTimeInterval(-30 * 86400) && $0.start < now
                }.count
                result.append(Substitute(expertId: candidate.id, name: candidate.name, sessionsLast30Days: recent))
            }
            return result.sorted { ($0.sessionsLast30Days, $0.expertId) < ($1.sessionsLast30Days, $1.expertId) }
        }
    }

    /// Puts `newExpert` in `oldExpert`'s seat after checking that the new panel is free.
    public func replace(
        session id: Int64, expert oldRef: String, with newRef: String, rules: SchedulingRules, actor: Actor
    )
        async throws -> Session
    {
        let now = clock.now()
        return try await write { db in
            var record = try Self.findSession(id, db)
            guard record.session.status == .booked else {
                throw MediationError.said(
                    .conflict,
                    en: "session #\(id) is \(record.session.status.rawValue); only a booked panel can change",
                    zh: "这场调解现在是“\(Words.sessionStatus(record.session.status, .zh))”，只有已预约的调解才能换专家")
            }
            let old = try Self.findExpert(oldRef, db).expert
            let new = try Self.findExpert(newRef, db).expert
            guard record.session.panel.contains(where: { $0.expertId == old.id }) else {
                throw MediationError.said(
                    .invalidInput, field: "expert", en: "\(old.name) is not on the panel of session #\(id)",
                    zh: "\(old.name) 不在这场调解的专家组里")
            }
            guard !record.session.panel.contains(where: { $0.expertId == new.id }) else {
                throw MediationError.said(
                    .invalidInput, field: "with",
                    en: (new.id == old.id
                        ? "\(new.name) would replace themselves; name someone else with --with"
                        : "\(new.name) is already on the panel of session #\(id); name someone not on it")
                        + "; 'session replace \(id) \(old.id)' without --with lists the substitutes",
                    zh: new.id == old.id ? "不能用 \(new.name) 替换其本人，请选另一位专家" : "\(new.name) 已在专家组里，请选组外的专家")
            }
            let dispute = try Self.findDispute(String(record.session.disputeId), db).dispute
            let panel = record.session.panel.map { $0.expertId == old.id ? new.id : $0.expertId }
            let seats = try Self.checkSlot(
                db, dispute: dispute, start: record.session.start, duration: Int(record.session.interval.duration / 60),
                requirements: Self.requirements(of: record.session), panel: panel, rules: rules, now: now, ignoring: id,
                cache: self.writerCache, newcomers: [new.id], outsideHours: record.session.outsideHoursReason != nil)
            let lead = record.session.panel.first { $0.lead }?.expertId
            record.session.panel = seats.map { seat in
                var s = seat
                s.lead = seat.expertId == (lead == old.id ? new.id : lead)
                s.invitation = record.session.panel.first { $0.expertId == seat.expertId }?.invitation ?? .pending
                return s
            }
            record.session.sequence += 1
            record.updatedAt = now
            try record.update(db)
            try record.savePanel(db)
            try Self.queueReplacement(
                db, session: record.session, removed: old.id, added: new.id, rules: rules, now: now)
            try self.audit(
                db, "session.replace", "session \(id)",
                "expert #\(old.id) \(old.name) replaced by #\(new.id) \(new.name)")
            return record.session
        }
    }

    // MARK: Reading

    public func session(_ id: Int64) async throws -> Session {
        try await read { db in try Self.findSession(id, db).session }
    }

    public func sessions(_ filter: SessionFilter = SessionFilter()) async throws -> [Session] {
        try await read { db in
            var sql = "SELECT * FROM session WHERE 1"
            var arguments: StatementArguments = []
            if let ref = filter.dispute {
                sql += " AND dispute_id = ?"
                arguments += [try Self.findDispute(ref, db).dispute.id]
            }
            if let office = filter.office?.lowercased() {
                guard try OfficeRecord.fetchOne(db, key: office) != nil else { throw Self.officeNotFound(office, db) }
                sql += " AND office_id = ?"
                arguments += [office]
            }
            if let range = filter.range {
                sql += " AND starts_at < ? AND ends_at > ? AND starts_at > ?"
                arguments += [
                    range.end.epoch, range.start.epoch, range.start.addingTimeInterval(-Self.longestSession).epoch,
                ]
            }
            if let status = filter.status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            var records = try SessionRecord.fetchAll(db, sql: sql + " ORDER BY starts_at, id", arguments: arguments)
            if filter.withPanels { try SessionRecord.loadPanels(&records, db) }
            return records.map(\.session)
        }
    }

    /// What a listing needs to show sessions, read at once: dispute numbers, expert names and office zones.
    public func display(_ sessions: [Session]) async throws -> SessionDisplay {
        guard !sessions.isEmpty else { return SessionDisplay() }
        return try await read { db in try Self.display(sessions, db) }
    }

    static func display(_ sessions: [Session], _ db: Database) throws -> SessionDisplay {
        let disputes = jsonIDs(Set(sessions.map(\.disputeId)))
        let experts = jsonIDs(Set(sessions.flatMap { $0.panel.map(\.expertId) }))
        let offices = Array(Set(sessions.map(\.officeId)))
        var display = SessionDisplay()
        for row in try db.cachedRows(
            "SELECT id, number, title FROM dispute WHERE id IN (SELECT value FROM json_each(?))", [disputes])
        {
            let r = StoredRow(row, table: "dispute")
            let id: Int64 = try r.value(Column("id"))
            display.numbers[id] = try r.value(Column("number")) as String
            display.titles[id] = try r.value(Column("title")) as String
        }
        for row in try db.cachedRows(
            "SELECT id, name FROM expert WHERE id IN (SELECT value FROM json_each(?))", [experts])
        {
            let r = StoredRow(row, table: "expert")
            display.names[try r.value(Column("id"))] = try r.value(Column("name")) as String
        }
        for office in offices { display.zones[office] = try officeZone(office, db) }
        return display
    }

    // MARK: Helpers inside transactions

    /// The zone of an office, read strictly: never guessed.
    ///
    /// - Throws: `notFound` for an unknown office; `unavailable` naming the office when its stored zone is unknown.
    static func officeZone(_ office: String, _ db: Database) throws -> Zone {
        guard let row = try db.cachedRow("SELECT id, time_zone FROM office WHERE id = ?", [office]) else {
            throw MediationError.said(
                .notFound, field: "office", en: "no office '\(office)'; 'office list' shows them",
                zh: "没有调解室“\(office)”；'office list' 会列出全部调解室")
        }
        return try StoredRow(row, table: OfficeRecord.databaseTableName).zone(OfficeRecord.Columns.timeZone)
    }

    /// Rows of (expert id, start, end), in that column order, grouped by expert. Read by position: these lists
    /// are the longest a booking reads, and a lookup by name costs more than the decoding.
    static func intervalsByExpert(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws
        -> [Int64: [Interval]]
    {
        var byExpert: [Int64: [Interval]] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() {
            let start = try row.decode(Double.self, atIndex: 1)
            let end = try row.decode(Double.self, atIndex: 2)
            byExpert[try row.decode(Int64.self, atIndex: 0), default: []].append(
                Interval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)))
        }
        return byExpert
    }

    static func requirements(of session: Session) -> [PanelRequirement] {
        var list: [PanelRequirement] = []
        for member in session.panel.sorted(by: { $0.requirementIndex < $1.requirementIndex })
        where list.count == member.requirementIndex {
            list.append(member.requirement)
        }
        return list
    }

    /// The dispute's office, from the writer's cache when one is given (on the writer only).
    static func officeOf(_ dispute: Dispute, _ db: Database, cache: WriterCache? = nil) throws -> Office {
        let found =
            try cache.map { try $0.office(dispute.officeId, db) }
            ?? OfficeRecord.fetchOne(
                cached: db, sql: "SELECT * FROM office WHERE id = ?", arguments: [dispute.officeId])?
            .office
        guard let office = found else {
            throw officeNotFound(dispute.officeId, db)
        }
        return office
    }

    static func findSession(_ id: Int64, _ db: Database) throws -> SessionRecord {
        guard var record = try SessionRecord.fetchOne(db, key: id) else {
            throw MediationError.said(
                .notFound, en: "no session #\(id); 'session list' shows them",
                zh: "没有调解场次 #\(id)；'session list' 会列出全部场次")
        }
        try record.loadPanel(db)
        return record
    }

    /// The finder's input for a dispute, read from the store in the caller's transaction.
    /// Longer than any session can be (durations are checked against `SlotFinder.maximumDurationMinutes`), so
    /// `starts_at > from - longestSession` bounds the index range of a search for sessions overlapping `from`:
    /// without it, every session since the store began is read to find the few that overlap.
    static let longestSession = TimeInterval(SlotFinder.maximumDurationMinutes * 60 + 86400)

    static func slotSearch(
        _ db: Database, dispute: Dispute, office: Office, requirements: [PanelRequirement], duration: Int,
        window: Interval, pinned: [Int64], excluded: [Int64], rules: SchedulingRules, now: Date, maxOptions: Int,
        ignoring session: Int64?, recheckingOn cache: WriterCache? = nil, newcomers: [Int64] = [],
        outsideHours: Bool = false
    ) throws -> SlotSearch {
        // A re-check of a named panel (on the writer, which passes its cache) reads only that panel's experts: the
        // others cannot change its answer.
        let onlyPinned = cache != nil
        let pinnedJSON = jsonIDs(pinned)
        // A re-check asks about one start only: no nearest option after the window.
        let nearestDays = onlyPinned ? 0 : 28
        // Fairness counts the 30 days before now; a re-check ranks nothing, so its caps' week on each side suffices.
        let horizon = Interval(
            start: onlyPinned
                ? window.start.addingTimeInterval(-8 * 86400) : min(window.start, now).addingTimeInterval(-32 * 86400),
            end: window.end.addingTimeInterval(TimeInterval((nearestDays + 8) * 86400)))
        let parties = try parties(of: dispute.id, db)
        let conflicts: [Conflict]
        let experts: [Expert]
        let timeOff: [Int64: [Interval]]
        let extra: [Int64: [Interval]]
        if let cache {
            // The pinned experts, their conflicts, leave and extra hours, from the writer's cache.
            conflicts = try cache.conflicts(of: pinned, db)
            experts = try cache.experts(pinned, db).values.sorted { $0.id < $1.id }
            timeOff = try cache.spans(.timeOff, of: pinned, overlapping: horizon, db)
            extra = try cache.spans(.extra, of: pinned, overlapping: horizon, db)
        } else {
            conflicts = try ConflictRecord.fetchAll(cached: db, sql: "SELECT * FROM conflict").map(\.conflict)
            experts = try ExpertRecord.fetchAll(
                cached: db,
                sql: """
                    SELECT * FROM expert WHERE (active = 1 OR id IN (SELECT value FROM json_each(?)))
                    AND (serves_all_offices = 1 OR offices LIKE ? ESCAPE '\\' OR id IN (SELECT value FROM json_each(?)))
                    ORDER BY id
                    """,
                arguments: [pinnedJSON, TagColumn.pattern(office.id), pinnedJSON]
            ).map(\.expert)
            func spans(_ kind: SpanKind) throws -> [Int64: [Interval]] {
                try Self.intervalsByExpert(
                    db,
                    "SELECT expert_id, starts_at, ends_at FROM \(kind.rawValue) WHERE starts_at < ? AND ends_at > ?",
                    [horizon.end.epoch, horizon.start.epoch])
            }
            timeOff = try spans(.timeOff)
            extra = try spans(.extra)
        }
        // An expert newly named for the session must serve the dispute's office, as every proposed one does; one
        // already on its panel stays, whatever their offices have become since.
        if let stranger = experts.first(where: { e in
            newcomers.contains(e.id) && !e.servesAllOffices
                && !e.offices.contains { $0.caseInsensitiveCompare(office.id) == .orderedSame }
        }) {
            throw MediationError.said(
                .invalidInput,
                en: "expert #\(stranger.id) \(stranger.name) does not serve office \(office.id) (serves "
                    + (stranger.offices.isEmpty ? "no office" : stranger.offices.joined(separator: ", ")) + "); "
                    + "choose an expert of \(office.id), or add the office with 'expert update \(stranger.id) --office …'",
                zh: "专家 \(stranger.name)（#\(stranger.id)）不在调解室 \(office.id) 服务（"
                    + (stranger.offices.isEmpty ? "没有服务的调解室" : "服务于 " + stranger.offices.joined(separator: "、"))
                    + "）；请选择 \(office.id) 的专家，或用 'expert update \(stranger.id) --office …' 为其加上这个调解室")
        }
        let conflicted = Set(conflicts.filter { $0.concerns(parties) }.map(\.expertId))
        let range: [any DatabaseValueConvertible] = [
            horizon.end.epoch, horizon.start.epoch, horizon.start.addingTimeInterval(-Self.longestSession).epoch,
        ]
        let sessions = try Self.intervalsByExpert(
            db,
            onlyPinned
                // A few experts: each one's panel rows around the horizon, from their own index range.
                ? """
                SELECT p.expert_id, p.starts_at, p.ends_at FROM json_each(?) j
                CROSS JOIN session_panel p INDEXED BY session_panel_on_expert_schedule
                  ON p.expert_id = j.value AND p.starts_at < ? AND p.ends_at > ? AND p.starts_at > ?
                WHERE p.status IN ('booked', 'in_session', 'ended') AND p.session_id IS NOT ?
                """
                // The whole pool: the office's sessions in the horizon, then their panels.
                : """
                SELECT p.expert_id, s.starts_at, s.ends_at FROM session s JOIN session_panel p ON p.session_id = s.id
                WHERE s.starts_at < ? AND s.ends_at > ? AND s.starts_at > ?
                AND s.status IN ('booked', 'in_session', 'ended') AND s.id IS NOT ?
                """,
            StatementArguments(onlyPinned ? [pinnedJSON] + range + [session] : range + [session]))
        let candidates = experts.map { e in
            SlotCandidate(
                id: e.id, name: e.name, role: e.role, specialties: e.specialties, languages: e.languages,
                active: e.active, conflicted: conflicted.contains(e.id), timeZone: e.timeZone,
                weeklyHours: e.weeklyHours, timeOff: timeOff[e.id] ?? [], extra: extra[e.id] ?? [],
                sessions: sessions[e.id] ?? [], maxSessionsPerDay: e.maxSessionsPerDay,
                maxSessionsPerWeek: e.maxSessionsPerWeek)
        }
        let partyWindow = Interval(
            start: window.start, end: window.end.addingTimeInterval(TimeInterval(nearestDays * 86400)))
        var search = SlotSearch(
            requirements: requirements, durationMinutes: duration, window: window, now: now,
            minimumNoticeMinutes: rules.minimumNoticeMinutes, bufferMinutes: rules.bufferMinutes,
            officeTimeZone: office.timeZone, officeHours: office.workingHours, holidays: rules.holidays,
            parties: try parties.map { try $0.free(in: partyWindow) }, candidates: candidates, pinned: pinned,
            excluded: excluded, preferredSpecialties: [dispute.category], maxOptions: maxOptions,
            nearestSearchDays: nearestDays)
        search.explain = !onlyPinned
        search.outsideOfficeHours = outsideHours
        if !onlyPinned { search.partyNames = parties.map { "\($0.name) (party #\($0.id))" } }
        return search
    }
}

/// A row of `session`, with its panel rows.
struct SessionRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "session"
    var session: Session
    var createdAt: Date
    var updatedAt: Date

    init(_ session: Session, createdAt: Date, updatedAt: Date) {
        self.session = session
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum Columns {
        static let id = Column("id")
        static let disputeId = Column("dispute_id")
        static let officeId = Column("office_id")
        static let startsAt = Column("starts_at")
        static let endsAt = Column("ends_at")
        static let status = Column("status")
        static let sequence = Column("sequence")
        static let room = Column("room")
        static let cancelReason = Column("cancel_reason")
        static let outsideHoursReason = Column("outside_hours_reason")
        static let createdAt = Column("created_at")
        static let updatedAt = Column("updated_at")
    }

    /// The columns of `session_panel`.
    enum PanelColumns {
        static let sessionId = Column("session_id")
        static let expertId = Column("expert_id")
        static let requirementIndex = Column("requirement_index")
        static let requirement = Column("requirement")
        static let invitation = Column("invitation")
        static let lead = Column("lead")
    }

    /// - Throws: `unavailable` naming the column and the session when a value cannot be read.
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        session = Session(
            id: try r.value(Columns.id), disputeId: try r.value(Columns.disputeId),
            officeId: try r.value(Columns.officeId), start: try r.date(Columns.startsAt),
            end: try r.date(Columns.endsAt), status: try r.value(Columns.status),
            sequence: try r.value(Columns.sequence), room: try r.optional(Columns.room), panel: [],
            cancelReason: try r.optional(Columns.cancelReason),
            outsideHoursReason: try r.optional(Columns.outsideHoursReason))
        createdAt = try r.date(Columns.createdAt)
        updatedAt = try r.date(Columns.updatedAt)
    }

    func encode(to c: inout PersistenceContainer) throws {
        c["id"] = session.id == 0 ? nil : session.id
        c["dispute_id"] = session.disputeId
        c["office_id"] = session.officeId
        c["starts_at"] = session.start.epoch
        c["ends_at"] = session.end.epoch
        c["status"] = session.status.rawValue
        c["sequence"] = session.sequence
        c["room"] = session.room
        c["cancel_reason"] = session.cancelReason
        c["outside_hours_reason"] = session.outsideHoursReason
        c["created_at"] = createdAt.epoch
        c["updated_at"] = updatedAt.epoch
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { session.id = inserted.rowID }

    /// The same row as `insert`, through one cached statement: a booking's hot path, where the record's
    /// persistence container cost more than SQLite's insert.
    mutating func insertRow(_ db: Database) throws {
        try db.cachedExecute(
            """
            INSERT INTO session (dispute_id, office_id, starts_at, ends_at, status, sequence, room, cancel_reason,
              created_at, updated_at, outside_hours_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                session.disputeId, session.officeId, session.start.epoch, session.end.epoch, session.status.rawValue,
                session.sequence, session.room, session.cancelReason, createdAt.epoch, updatedAt.epoch,
                session.outsideHoursReason,
            ])
        session.id = db.lastInsertedRowID
    }

    mutating func loadPanel(_ db: Database) throws {
        session.panel = try db.cachedRows(
            "SELECT * FROM session_panel WHERE session_id = ? ORDER BY requirement_index, expert_id", [session.id]
        ).map(Self.member)
    }

    /// The panels of many sessions in one query (a week of an office may hold hundreds).
    static func loadPanels(_ records: inout [SessionRecord], _ db: Database) throws {
        guard records.count > 1 else {
            for i in records.indices { try records[i].loadPanel(db) }
            return
        }
        var panels: [Int64: [PanelMember]] = [:]
        for row in try db.cachedRows(
            """
            SELECT * FROM session_panel WHERE session_id IN (SELECT value FROM json_each(?))
            ORDER BY session_id, requirement_index, expert_id
            """, [jsonIDs(Set(records.map(\.session.id)))])
        {
            let session: Int64 = try StoredRow(row, table: "session_panel").value(Column("session_id"))
            panels[session, default: []].append(try member(row))
        }
        for i in records.indices { records[i].session.panel = panels[records[i].session.id] ?? [] }
    }

    /// One seat as stored. A seat whose requirement does not read is an error, never a seat dropped from the panel.
    static func member(_ row: Row) throws -> PanelMember {
        let r = StoredRow(row, table: "session_panel")
        return PanelMember(
            expertId: try r.value(PanelColumns.expertId),
            requirementIndex: try r.value(PanelColumns.requirementIndex),
            requirement: try r.parsed(PanelColumns.requirement, as: "a panel requirement such as lawyer:property") {
                try? PanelRequirement(parsing: $0)
            }, invitation: try r.value(PanelColumns.invitation), lead: try r.value(PanelColumns.lead))
    }

    func savePanel(_ db: Database, replacing: Bool = true) throws {
        if replacing { try db.cachedExecute("DELETE FROM session_panel WHERE session_id = ?", [session.id]) }
        for m in session.panel {
            try db.cachedExecute(
                """
                INSERT INTO session_panel (session_id, expert_id, requirement_index, requirement, invitation, lead,
                  starts_at, ends_at, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    session.id, m.expertId, m.requirementIndex, m.requirement.description, m.invitation.rawValue,
                    m.lead, session.start.epoch, session.end.epoch, session.status.rawValue,
                ])
        }
    }
}
