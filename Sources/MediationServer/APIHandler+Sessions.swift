import Foundation
import MediationAPI
import MediationCore
import MediationStore
import Metrics
import OpenAPIRuntime

extension APIHandler {
    private func officeZone(of disputeRef: String) async throws -> (Dispute, Zone) {
        let dispute = try await db.dispute(disputeRef).dispute
        return (dispute, try Zone(try await db.office(dispute.officeId).timeZone))
    }

    private func seat(_ m: PanelMember, names: [Int64: String]) -> Components.Schemas.Seat {
        .init(
            expert: m.expertId, name: names[m.expertId] ?? "#\(m.expertId)", requirement: m.requirement.description,
            invitation: .init(m.invitation), lead: m.lead)
    }

    func wireSession(_ s: Session) async throws -> Components.Schemas.Session {
        try await wireSessions([s])[0]
    }

    /// Sessions as the API shows them; names, zones and dispute numbers are looked up once for the whole list.
    func wireSessions(_ list: [Session]) async throws -> [Components.Schemas.Session] {
        try wireSessions(list, try await db.display(list))
    }

    /// - Throws: `unavailable` for a session whose office's zone was not read (never shown in another zone).
    func wireSessions(_ list: [Session], _ display: SessionDisplay) throws -> [Components.Schemas.Session] {
        let names = display.names
        let numbers = display.numbers
        return try list.map { s in
            guard let zone = display.zones[s.officeId] else {
                throw MediationError.unavailable(
                    "the time zone of office '\(s.officeId)' of session #\(s.id) was not read")
            }
            return .init(
                id: s.id, dispute: numbers[s.disputeId] ?? String(s.disputeId), title: display.titles[s.disputeId],
                office: s.officeId,
                start: zone.format(s.start), end: zone.format(s.end),
                status: .init(s.status), sequence: s.sequence, room: s.room,
                cancelReason: s.cancelReason, outsideHours: s.outsideHoursReason != nil,
                outsideHoursReason: s.outsideHoursReason, panel: s.panel.map { seat($0, names: names) })
        }
    }

    private func view(_ o: SlotOption, number: Int, finding: SlotFinding, zone: Zone)
        -> Components.Schemas.SlotOptionView
    {
        .init(
            number: number, start: zone.format(o.start), end: zone.format(o.end),
            panel: o.panel.map {
                .init(
                    expert: $0.expertId, name: finding.names[$0.expertId] ?? "#\($0.expertId)",
                    requirement: finding.requirements[$0.requirementIndex].description)
            }, explanation: ReplyLanguage.current == .zh ? o.explanationChinese : o.explanation)
    }

    func findSlots(_ input: Operations.FindSlots.Input) async throws -> Operations.FindSlots.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let (_, zone) = try await officeZone(of: input.path.dispute)
        let window = Interval(
            start: try zone.parseInstant(b.from, field: "from", now: info.clock.now()),
            end: try zone.parseInstant(b.to, field: "to", endOfDay: true, now: info.clock.now()))
        // The contract bounds durationMinutes (1–480) and options (1–20); the finder checks the length again.
        let count = b.options ?? 5
        let finding = try await db.findSlots(
            dispute: input.path.dispute, policy: b.policy, durationMinutes: b.durationMinutes, window: window,
            pinned: try await db.expertIDs(b.pin ?? [], field: "pin"),
            excluded: try await db.expertIDs(b.exclude ?? [], field: "exclude"), rules: info.rules,
            maxOptions: count, everyStart: b.every ?? false,
            outsideHours: try Self.outsideHours(b.outsideHours, b.outsideHoursReason))
        let result = Components.Schemas.SlotResult(
            dispute: finding.dispute.number, policy: finding.policy,
            requirements: finding.requirements.map(\.description),
            durationMinutes: finding.durationMinutes,
            options: finding.answer.options.enumerated().map { view($1, number: $0 + 1, finding: finding, zone: zone) },
            reasons: ReplyLanguage.current == .zh ? finding.answer.reasonsChinese : finding.answer.reasons,
            nearest: finding.answer.nearest.map { view($0, number: 0, finding: finding, zone: zone) })
        return .ok(.init(body: .json(result)))
    }

    /// The reason for a session outside office hours as a request gives it: nil inside them; with
    /// `outsideHours: true`, the reason (the store refuses an empty one); a reason alone is a mistake, said as such.
    static func outsideHours(_ flag: Bool?, _ reason: String?) throws -> String? {
        guard flag == true else {
            guard reason == nil else {
                throw MediationError.said(
                    .invalidInput, field: "outsideHoursReason",
                    en: "a reason for outside office hours was given without asking for them; "
                        + "add --outside-hours (outsideHours: true), or leave the reason out",
                    zh: "填写了在办公时间外调解的理由，却没有选择办公时间外：请加上 --outside-hours，或去掉理由")
            }
            return nil
        }
        return reason ?? ""
    }

    func bookSession(_ input: Operations.BookSession.Input) async throws -> Operations.BookSession.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let outsideHours = try Self.outsideHours(b.outsideHours, b.outsideHoursReason)
        let booked: BookedSession
        switch (b.option, b.start) {
        case (let option?, nil):
            guard b.panel == nil else {
                throw MediationError.said(
                    .invalidInput, en: "give --option, or --at with --panel, not both",
                    zh: "--option 与 --at 加 --panel 只能选一种")
            }
            // An option books the search's own length and policy; another one here would be silently ignored.
            guard b.durationMinutes == nil, b.policy == nil else {
                let find = "'session find \(b.dispute) --from DATE --to DATE --minutes M --policy P'"
                throw MediationError.said(
                    .invalidInput,
                    en: "an option keeps the length and policy of the search it came from; search again with \(find), "
                        + "or leave them out",
                    zh: "按编号预约沿用查找时的时长和组成规则；如要改，请重新查找（\(find)），或去掉时长和组成规则")
            }
            booked = try await db.bookOptionShown(
                dispute: b.dispute, number: option, rules: info.rules, room: info.rooms.newRoomName(), actor: actor,
                outsideHours: outsideHours)
        case (nil, let start?):
            // Dispute, experts and the time (in the office's zone) are resolved inside the booking's transaction;
            // a time with its own offset is read here, so the single writer does not spend its time on it.
            let fixed = try Zone.startInstant(start, field: "the start")
            let now = info.clock.now()
            booked = try await db.book(
                dispute: b.dispute, start: { zone in try fixed ?? zone.parseInstant(start, field: "start", now: now) },
                durationMinutes: b.durationMinutes, panel: b.panel ?? [], policy: b.policy, rules: info.rules,
                room: info.rooms.newRoomName(), actor: actor, outsideHours: outsideHours)
        case (_?, _?):
            throw MediationError.said(
                .invalidInput,
                en: "give an option or a start time, not both; "
                    + "book --option N from 'session find', or --at TIME with --panel experts",
                zh: "可选时间编号和开始时间只能给一个：用 'session find' 列出的 --option N 预约，或用 --at 时间 加 --panel 专家")
        case (nil, nil):
            throw MediationError.said(
                .invalidInput,
                en: "say what to book; give --option N from 'session find', or --at TIME with --panel experts",
                zh: "请说明预约哪个时间：用 'session find' 列出的 --option N，或用 --at 时间 加 --panel 专家")
        }
        Counter(label: OperationsMetrics.sessionsBooked).increment()
        var answer = try wireSessions([booked.session], booked.display)[0]
        answer.unreached = Self.wire(
            try await db.unreached(session: booked.session.id, available: info.notices.personalChannels))
        return .created(.init(body: .json(answer)))
    }

    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let q = input.query
        var range: Interval?
        var week: (name: String, days: [String])?
        if let asked = q.week {
            guard q.from == nil && q.to == nil else {
                throw MediationError.said(
                    .invalidInput, field: "week",
                    en: "give a week or a range of days, not both; drop from and to, or drop week",
                    zh: "周次和日期范围只能给一个：去掉 from 和 to，或去掉 week")
            }
            let zone = try await officeZone(q.office)
            let iso =
                try asked == "this"
                ? ISOWeek(containing: zone.wallClock(info.clock.now()).date)
                : ISOWeek.parse(
                    asked, field: "week")
            let days = (0..<7).map { iso.monday.adding(days: $0) }
            range = try DayRange(from: days[0], to: days[6]).interval(in: zone)
            week = (iso.description, days.map(\.description))
        } else if q.from != nil || q.to != nil {
            let zone: Zone
            if let office = Text.nonEmpty(q.office) {
                zone = try Zone(try await db.office(office).timeZone)
            } else {
                zone = Zone.shanghai
            }
            let asked = Interval(
                start: try q.from.map { try zone.parseInstant($0, field: "from", now: info.clock.now()) }
                    ?? .distantPast,
                end: try q.to.map { try zone.parseInstant($0, field: "to", endOfDay: true, now: info.clock.now()) }
                    ?? .distantFuture)
            try AvailabilityResolver.checkRange(asked, what: "the range")
            range = asked
        }
        let status = try q.status.flatMap(Text.nonEmpty).map { text -> SessionStatus in
            guard let s = SessionStatus(rawValue: text) else {
                throw MediationError.said(
                    .invalidInput, field: "status",
                    en:
                        "status '\(text)' is unknown; \(SessionStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                    zh: "状态“\(text)”无法识别，请写 "
                        + SessionStatus.allCases.map { "\($0.rawValue)（\(Words.sessionStatus($0, .zh))）" }
                        .joined(separator: "、"))
            }
            return s
        }
        let list = try await db.sessions(
            SessionFilter(
                dispute: Text.nonEmpty(q.dispute), office: Text.nonEmpty(q.office), range: range, status: status))
        return .ok(
            .init(body: .json(.init(week: week?.name, days: week?.days, sessions: try await wireSessions(list)))))
    }

    /// The zone a listing's or a report's days are read in: the office's, or Shanghai's when no office is named.
    func officeZone(_ office: String?) async throws -> Zone {
        guard let office = Text.nonEmpty(office) else { return Zone.shanghai }
        return try Zone(try await db.office(office).timeZone)
    }

    func getSession(_ input: Operations.GetSession.Input) async throws -> Operations.GetSession.Output {
        let session = try await db.session(input.path.session)
        var answer = try await wireSession(session)
        if session.status == .booked {
            answer.unreached = Self.wire(
                try await db.unreached(session: session.id, available: info.notices.personalChannels))
        }
        return .ok(.init(body: .json(answer)))
    }

    func rescheduleSession(_ input: Operations.RescheduleSession.Input) async throws
        -> Operations.RescheduleSession.Output
    {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let current = try await db.session(input.path.session)
        let zone = try Zone(try await db.office(current.officeId).timeZone)
        let session = try await db.reschedule(
            session: input.path.session,
            to: try Intake.sessionStart(b.start, field: "start", zone: zone, now: info.clock.now()),
            rules: info.rules, actor: actor)
        return .ok(.init(body: .json(try await wireSession(session))))
    }

    func cancelSession(_ input: Operations.CancelSession.Input) async throws -> Operations.CancelSession.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let session = try await db.cancel(session: input.path.session, reason: b.reason, actor: actor)
        return .ok(.init(body: .json(try await wireSession(session))))
    }

    func markSession(_ input: Operations.MarkSession.Input) async throws -> Operations.MarkSession.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        guard let status = SessionStatus(rawValue: b.status), [.inSession, .ended, .noShow].contains(status) else {
            throw MediationError.said(
                .invalidInput, field: "status", en: "status '\(b.status)' is not in_session, ended or no_show",
                zh: "状态“\(b.status)”不对，只能是 in_session（进行中）、ended（已结束）或 no_show（缺席）")
        }
        let session = try await db.mark(session: input.path.session, status, rules: info.rules, actor: actor)
        return .ok(.init(body: .json(try await wireSession(session))))
    }

    private func substituteViews(_ list: [Substitute]) -> [Components.Schemas.SubstituteView] {
        list.map { .init(expert: $0.expertId, name: $0.name, sessionsLast30Days: $0.sessionsLast30Days) }
    }

    func rsvpSession(_ input: Operations.RsvpSession.Input) async throws -> Operations.RsvpSession.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        guard let answer = Invitation(parsing: b.answer) else {
            throw MediationError.said(
                .invalidInput, field: "answer", en: "answer '\(b.answer)' is not accepted, declined or pending",
                zh: "答复“\(b.answer)”无法识别，请写 accepted（已接受）、declined（已谢绝）或 pending（待回复）")
        }
        let (session, subs) = try await db.rsvp(
            session: input.path.session, expert: b.expert, answer, rules: info.rules)
        return .ok(
            .init(body: .json(.init(session: try await wireSession(session), substitutes: substituteViews(subs)))))
    }

    func listSubstitutes(_ input: Operations.ListSubstitutes.Input) async throws -> Operations.ListSubstitutes.Output {
        let expert = try await db.expert(input.query.expert)
        let subs = try await db.substitutes(session: input.path.session, replacing: expert.id, rules: info.rules)
        return .ok(.init(body: .json(.init(substitutes: substituteViews(subs)))))
    }

    func replaceMember(_ input: Operations.ReplaceMember.Input) async throws -> Operations.ReplaceMember.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let session = try await db.replace(
            session: input.path.session, expert: b.expert, with: b.with, rules: info.rules, actor: actor)
        return .ok(.init(body: .json(try await wireSession(session))))
    }
}

extension APIHandler {
    func getSessionLinks(_ input: Operations.GetSessionLinks.Input) async throws -> Operations.GetSessionLinks.Output {
        let session = try await db.session(input.path.session)
        try session.checkLinksAvailable()
        var links: [Components.Schemas.LinkList.LinksPayloadPayload] = []
        for member in session.panel {
            let expert = try? await db.expert(String(member.expertId))
            let link = try session.room.flatMap { room in
                try info.rooms.link(
                    room: room, participantID: "expert-\(member.expertId)", name: expert?.name ?? "#\(member.expertId)",
                    email: expert?.email, moderator: member.lead, start: session.start, end: session.end)
            }
            let page = try await info.webBase.asyncMap {
                try await db.personalPage(base: $0, session: session, kind: .expert, person: member.expertId)
            }
            links.append(
                .init(
                    expert: member.expertId, name: expert?.name ?? "", moderator: member.lead, link: link, page: page))
        }
        var parties: [Components.Schemas.LinkList.PartiesPayloadPayload]?
        if let base = info.webBase {
            parties = []
            for p in try await db.dispute(String(session.disputeId)).parties {
                parties?.append(
                    .init(
                        party: p.id, name: p.name,
                        page: try await db.personalPage(base: base, session: session, kind: .party, person: p.id)))
            }
        }
        return .ok(.init(body: .json(.init(links: links, parties: parties))))
    }
}

extension Optional {
    /// `map` with an asynchronous transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
