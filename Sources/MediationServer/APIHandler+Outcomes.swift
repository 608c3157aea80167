import Foundation
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime

extension APIHandler {
    // MARK: Wire forms

    private func wire(_ o: Outcome, number: String) -> Components.Schemas.Outcome {
        .init(
            id: o.id, session: o.sessionId, dispute: number, result: o.result.rawValue, terms: o.terms,
            amount: o.amountFen.map(Money.format), amountFen: o.amountFen, signed: o.signed, notes: o.notes,
            referredTo: o.referredTo, recordedAt: Zone.shanghai.format(o.recordedAt), recordedBy: o.recordedBy,
            amendedAt: o.amendedAt.map(Zone.shanghai.format), amendedBy: o.amendedBy,
            voidedAt: o.voidedAt.map(Zone.shanghai.format), voidedBy: o.voidedBy, voidReason: o.voidReason)
    }

    /// A visit as the API shows it: overdue by its office's day, recorded in its office's zone.
    private func wire(_ f: FollowUp, numbers: [Int64: String], names: [Int64: String], zone: Zone)
        -> Components.Schemas.FollowUp
    {
        .init(
            id: f.id, dispute: numbers[f.disputeId] ?? String(f.disputeId), session: f.sessionId, office: f.officeId,
            dueOn: f.dueOn.description, offsetDays: f.offsetDays, assignee: f.assigneeExpertId,
            assigneeName: f.assigneeExpertId.flatMap { names[$0] }, result: f.result?.rawValue, notes: f.notes,
            recordedAt: f.recordedAt.map(zone.format), recordedBy: f.recordedBy,
            overdue: f.isOverdue(today: zone.wallClock(info.clock.now()).date))
    }

    private func wire(_ e: Escalation, number: String, risk: RiskLevel? = nil) -> Components.Schemas.Escalation {
        .init(
            id: e.id, dispute: number, kind: e.kind.rawValue, occurredOn: e.occurredOn.description,
            caseReference: e.caseReference, notes: e.notes, followUp: e.followUpId,
            recordedAt: Zone.shanghai.format(e.recordedAt), recordedBy: e.recordedBy, disputeRisk: risk?.rawValue)
    }

    private func wire(_ w: EarlyWarning, numbers: [Int64: String]) -> Components.Schemas.Warning {
        .init(
            id: w.id, rule: w.rule.rawValue, subject: w.subject, dispute: numbers[w.disputeId] ?? String(w.disputeId),
            office: w.officeId, message: Words.warningMessage(w.message, ReplyLanguage.current),
            raisedAt: Zone.shanghai.format(w.raisedAt),
            deliveredAt: w.deliveredAt.map(Zone.shanghai.format), channel: w.channel)
    }

    private var today: LocalDate { Zone.shanghai.wallClock(info.clock.now()).date }

    private func followUpList(_ list: [FollowUp]) async throws -> [Components.Schemas.FollowUp] {
        let numbers = try await db.disputeNumbers(list.map(\.disputeId))
        let names = try await db.expertNames(list.compactMap(\.assigneeExpertId))
        let zones = try await officeZones()
        return try list.map { f in
            guard let zone = zones[f.officeId] else {
                throw MediationError.unavailable(
                    "the time zone of office '\(f.officeId)' of follow-up #\(f.id) was not read")
            }
            return wire(f, numbers: numbers, names: names, zone: zone)
        }
    }

    // MARK: Outcomes

    /// 人民调解协议书 as printable HTML, numbers in full for the reveal roles only; audited by the store.
    func getAgreement(_ input: Operations.GetAgreement.Input) async throws -> Operations.GetAgreement.Output {
        let id = try await db.session(input.path.session).id
        let reveal = Caller.current.map { info.privacy.allowsReveal($0.role) } ?? false
        let sheet = try await db.printAgreement(session: id, reveal: reveal)
        guard let html = info.notices.document("agreement", sheet.values) else {
            throw MediationError.unavailable("this daemon has no agreement template (zh/agreement.mustache)")
        }
        return .ok(.init(body: .html(.init(html))))
    }

    /// 调解笔录 to fill in by hand, as printable HTML.
    func getSessionRecord(_ input: Operations.GetSessionRecord.Input) async throws
        -> Operations.GetSessionRecord.Output
    {
        let sheet = try await db.recordSheet(session: input.path.session)
        guard let html = info.notices.document("record", sheet.values) else {
            throw MediationError.unavailable("this daemon has no session-record template (zh/record.mustache)")
        }
        return .ok(.init(body: .html(.init(html))))
    }

    func getOutcome(_ input: Operations.GetOutcome.Input) async throws -> Operations.GetOutcome.Output {
        let session = try await db.session(input.path.session)
        guard
            let outcome = try await db.outcomes(dispute: String(session.disputeId)).first(where: {
                $0.sessionId == session.id
            })
        else {
            if let voided = try await db.voidedOutcome(session: session.id) {
                throw MediationError.notFound(
                    "session #\(session.id) has no outcome in force: its \(voided.result.rawValue) was voided"
                        + (voided.voidReason.map { " (\($0))" } ?? "")
                        + "; record it again with 'outcome record \(session.id) RESULT'")
            }
            throw MediationError.notFound(
                "session #\(session.id) has no outcome yet; record it with 'outcome record \(session.id) RESULT'")
        }
        let numbers = try await db.disputeNumbers([session.disputeId])
        return .ok(.init(body: .json(wire(outcome, number: numbers[session.disputeId] ?? ""))))
    }

    func recordOutcome(_ input: Operations.RecordOutcome.Input) async throws -> Operations.RecordOutcome.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let outcome = try Intake.outcome(
            session: input.path.session, result: b.result, terms: b.terms, amount: b.amount, signed: b.signed ?? false,
            notes: b.notes, to: b.to)
        let recorded = try await db.recordOutcome(
            session: input.path.session, outcome, policy: info.followUps, actor: actor)
        let next: String
        let say = Self.say
        let number = recorded.dispute.number
        switch outcome.result {
        case .agreement, .partialAgreement:
            // The CLI says the dispute's new status before this: the sentence says what comes next, not that again.
            let n = recorded.followUps.count
            next = say(
                "\(n) follow-up visit(s) planned ('mediationctl followup list --all')",
                "已安排 \(n) 次回访（'mediationctl followup list --all'）")
        case .adjourned:
            // The next week from tomorrow in the office's zone: a command that runs as printed.
            let zone = try Zone(try await db.office(recorded.dispute.officeId).timeZone)
            let tomorrow = zone.wallClock(info.clock.now()).date.adding(days: 1)
            let find = "'mediationctl session find \(number) --from \(tomorrow) --to \(tomorrow.adding(days: 6))'"
            next = say("adjourned: book the next session, e.g. \(find)", "已休会：请预约下一次调解，例如 \(find)")
        case .noAgreement:
            next = say("no agreement: book another session or close the dispute", "未达成协议：可再次预约调解，或结案")
        case .referredCourt, .referredPolice, .referredOther:
            let to = recorded.outcome.referredTo
            next = say("referred to \(to ?? "another agency")", "已移交\(to ?? "其他单位")")
        }
        return .created(
            .init(
                body: .json(
                    .init(
                        outcome: wire(recorded.outcome, number: recorded.dispute.number),
                        disputeStatus: recorded.dispute.status.rawValue,
                        followUps: try await followUpList(recorded.followUps), next: next))))
    }

    func amendOutcome(_ input: Operations.AmendOutcome.Input) async throws -> Operations.AmendOutcome.Output {
        info.notices.changeStarted()
        defer { info.notices.changeEnded() }
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let corrected = try await db.amendOutcome(
            session: input.path.session,
            try Intake.amendment(
                result: b.result, terms: b.terms, amount: b.amount, signed: b.signed, notes: b.notes, to: b.to,
                reason: b.reason),
            policy: info.followUps, actor: actor)
        return .ok(.init(body: .json(try await wire(corrected, session: input.path.session))))
    }

    func voidOutcome(_ input: Operations.VoidOutcome.Input) async throws -> Operations.VoidOutcome.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let corrected = try await db.voidOutcome(session: input.path.session, reason: b.reason, actor: actor)
        return .ok(.init(body: .json(try await wire(corrected, session: input.path.session))))
    }

    private func wire(_ c: CorrectedOutcome, session: Int64) async throws -> Components.Schemas.OutcomeCorrected {
        let number = c.dispute.number
        var next: [String] = []
        let say = Self.say
        let l = ReplyLanguage.current
        if !c.changed { next.append(say("the outcome already says so: nothing changed", "结果本来就是这样，未做修改")) }
        if c.outcome.voidedAt != nil {
            let record = "'mediationctl outcome record \(session) agreement --terms …'"
            next.append(say("record the session's outcome again, e.g. \(record)", "请重新记录本场结果，例如 \(record)"))
        }
        if !c.cancelled.isEmpty {
            next.append(say("\(c.cancelled.count) follow-up visit(s) cancelled", "已取消 \(c.cancelled.count) 次回访"))
        }
        if !c.planned.isEmpty {
            next.append(
                say(
                    "\(c.planned.count) follow-up visit(s) planned ('mediationctl followup list --all')",
                    "已安排 \(c.planned.count) 次回访（'mediationctl followup list --all'）"))
        }
        let now = Words.disputeStatus(c.dispute.status, l)
        if let was = c.disputeWas {
            let before = Words.disputeStatus(was, l)
            next.append(say("dispute \(number) moved from \(before) to \(now)", "纠纷 \(number) 由“\(before)”改为“\(now)”"))
        } else {
            next.append(say("dispute \(number) stays \(now)", "纠纷 \(number) 仍为“\(now)”"))
        }
        return .init(
            outcome: wire(c.outcome, number: number), disputeStatus: c.dispute.status.rawValue,
            disputeWas: c.disputeWas?.rawValue, followUpsPlanned: try await followUpList(c.planned),
            followUpsCancelled: c.cancelled, next: next.joined(separator: say("; ", "；")))
    }

    // MARK: Follow-ups

    func listFollowUps(_ input: Operations.ListFollowUps.Input) async throws -> Operations.ListFollowUps.Output {
        let scope = FollowUpScope(input.query.scope)
        let list = try await db.followUps(scope: scope, office: input.query.office)
        return .ok(.init(body: .json(.init(followUps: try await followUpList(list)))))
    }

    func recordFollowUp(_ input: Operations.RecordFollowUp.Input) async throws -> Operations.RecordFollowUp.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let (result, escalation) = try Intake.followUp(
            result: b.result, kind: b.kind, date: b.date, caseRef: b._case, notes: b.notes, today: today)
        let (f, dispute) = try await db.recordFollowUp(
            input.path.followup, result: result, notes: b.notes, escalation: escalation, actor: actor)
        return .ok(
            .init(
                body: .json(
                    .init(
                        followUp: try await followUpList([f])[0], disputeStatus: dispute.status.rawValue,
                        disputeRisk: dispute.risk.rawValue))))
    }

    // MARK: Escalations

    func listEscalations(_ input: Operations.ListEscalations.Input) async throws -> Operations.ListEscalations.Output {
        let list = try await db.escalations(dispute: input.path.dispute)
        let numbers = try await db.disputeNumbers(list.map(\.disputeId))
        return .ok(.init(body: .json(.init(escalations: list.map { wire($0, number: numbers[$0.disputeId] ?? "") }))))
    }

    func listAllEscalations(_ input: Operations.ListAllEscalations.Input) async throws
        -> Operations.ListAllEscalations.Output
    {
        let list = try await db.escalations()
        let numbers = try await db.disputeNumbers(list.map(\.disputeId))
        return .ok(.init(body: .json(.init(escalations: list.map { wire($0, number: numbers[$0.disputeId] ?? "") }))))
    }

    func addEscalation(_ input: Operations.AddEscalation.Input) async throws -> Operations.AddEscalation.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let draft = try Intake.escalation(kind: b.kind, date: b.date, caseRef: b._case, notes: b.notes, today: today)
        let (e, dispute) = try await db.addEscalation(dispute: input.path.dispute, draft, actor: actor)
        return .created(.init(body: .json(wire(e, number: dispute.number, risk: dispute.risk))))
    }

    // MARK: Warnings

    func listWarnings(_ input: Operations.ListWarnings.Input) async throws -> Operations.ListWarnings.Output {
        let list = try await db.warnings(office: input.query.office)
        let numbers = try await db.disputeNumbers(list.map(\.disputeId))
        return .ok(.init(body: .json(.init(warnings: list.map { wire($0, numbers: numbers) }))))
    }

    func checkWarnings(_ input: Operations.CheckWarnings.Input) async throws -> Operations.CheckWarnings.Output {
        let raised = try await info.warnings.checkNow()
        let numbers = try await db.disputeNumbers(raised.map(\.disputeId))
        return .ok(.init(body: .json(.init(warnings: raised.map { wire($0, numbers: numbers) }))))
    }

    // MARK: Reports

    private func container(_ value: some Encodable) throws -> Components.Schemas.Report {
        try ReportCoding.decoder().decode(Components.Schemas.Report.self, from: ReportCoding.encoder().encode(value))
    }

    func weeklyReport(_ input: Operations.WeeklyReport.Input) async throws -> Operations.WeeklyReport.Output {
        let week = try input.query.week.map { try ISOWeek.parse($0, field: "week") } ?? ISOWeek(containing: today)
        let report = try await db.weeklyReport(week: week, office: input.query.office)
        let zone = try await officeZone(input.query.office)
        switch ReportForm(input.headers.accept) {
        case .json: return .ok(.init(body: .json(try container(report))))
        // The text a reader reads in a terminal: in their language when it is Chinese (`LANG=zh_CN.UTF-8`), else both
        // (Chinese first), as the printed and spreadsheet forms always are.
        case .text:
            let language: Language? = ReplyLanguage.current == .zh ? .zh : nil
            return .ok(.init(body: .plainText(.init(ReportForm.text(report.document(zone: zone, language: language))))))
        case .csv: return .ok(.init(body: .csv(.init(report.document(zone: zone).csv()))))
        case .html: return .ok(.init(body: .html(.init(report.document(zone: zone).html()))))
        }
    }

    func outcomesReport(_ input: Operations.OutcomesReport.Input) async throws -> Operations.OutcomesReport.Output {
        let range = try DayRange(from: input.query.from, to: input.query.to, today: today)
        let by = input.query.by.flatMap { OutcomeGrouping(rawValue: $0.rawValue) }
        let report = try await db.outcomesReport(range: range, by: by, office: input.query.office)
        switch ReportForm(input.headers.accept) {
        case .json: return .ok(.init(body: .json(try container(report))))
        case .text:
            let language: Language? = ReplyLanguage.current == .zh ? .zh : nil
            return .ok(.init(body: .plainText(.init(ReportForm.text(report.document(language: language))))))
        case .csv: return .ok(.init(body: .csv(.init(report.document().csv()))))
        case .html: return .ok(.init(body: .html(.init(report.document().html()))))
        }
    }

    func expertsReport(_ input: Operations.ExpertsReport.Input) async throws -> Operations.ExpertsReport.Output {
        let range = try DayRange(from: input.query.from, to: input.query.to, today: today)
        let report = try await db.expertsReport(range: range)
        switch ReportForm(input.headers.accept) {
        case .json: return .ok(.init(body: .json(try container(report))))
        case .text: return .ok(.init(body: .plainText(.init(ReportForm.text(report.document())))))
        case .csv: return .ok(.init(body: .csv(.init(report.document().csv()))))
        case .html: return .ok(.init(body: .html(.init(report.document().html()))))
        }
    }

    func exportRecords(_ input: Operations.ExportRecords.Input) async throws -> Operations.ExportRecords.Output {
        let range = try DayRange(from: input.query.from, to: input.query.to, today: today)
        let office = input.query.office
        let text: String
        switch input.path.kind {
        case .disputes: text = try await db.exportDisputes(range: range, office: office)
        case .sessions: text = try await db.exportSessions(range: range, office: office)
        case .outcomes: text = try await db.exportOutcomes(range: range, office: office)
        }
        return .ok(.init(body: .csv(HTTPBody(text))))
    }
}

extension APIHandler {
    /// A dispute's case file: its sessions with panel and status, outcomes, follow-up visits, escalations, and the
    /// conflicts of interest concerning its parties.
    func caseFile(_ dispute: Dispute) async throws -> Components.Schemas.CaseFile {
        let ref = String(dispute.id)
        return .init(
            sessions: try await wireSessions(try await db.sessions(SessionFilter(dispute: ref))),
            outcomes: try await db.outcomes(dispute: ref).map { wire($0, number: dispute.number) },
            followUps: try await followUpList(try await db.followUps(dispute: ref)),
            escalations: try await db.escalations(dispute: ref).map { wire($0, number: dispute.number) },
            conflicts: try await wireConflicts(try await db.conflicts(dispute: ref)))
    }
}
