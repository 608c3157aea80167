import Foundation
import MediationCore
import Testing

@testable import MediationStore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A generated quarter (Q3 2026) of activity for two offices, with every report figure checked against counts the
/// test keeps itself while generating.
@Suite struct QuarterReportTests {
    static let zone = Zone.shanghai
    static let actor = Actor(uid: 1000, user: "tester", isAdmin: false)
    static let quarter = try! DayRange(from: "2026-07-01", to: "2026-09-30", today: nil)

    static func at(_ day: LocalDate, _ hour: Int, _ minute: Int = 0) -> Date {
        zone.instant(day, TimeOfDay(minutes: hour * 60 + minute)!)
    }

    /// What the test generated, kept independently of the store.
    struct Ledger {
        struct Held {
            var session: Int64
            var dispute: Int64
            var office: String
            var category: String
            var result: OutcomeResult
            var heldAt: Date
            var openedAt: Date
            var panel: [Int64]
        }
        struct Seat {
            var expert: Int64
            var status: SessionStatus
            var invitation: Invitation
            var start: Date
        }
        var sessions: [(id: Int64, office: String, start: Date, status: SessionStatus)] = []
        var held: [Held] = []
        var seats: [Seat] = []
        var disputes: [(id: Int64, office: String, risk: RiskLevel, openedAt: Date)] = []
        var followUps: [FollowUp] = []
        var recorded: [Int64: (FollowUpResult, Date)] = [:]
        var escalations: [(dispute: Int64, office: String, category: String, kind: EscalationKind, on: LocalDate)] = []
        var experts: [Int64] = []
    }

    /// Generates the quarter; returns the store, the clock and the ledger.
    static func generate() async throws -> (AppDatabase, FixedWallClock, Ledger) {
        let start = LocalDate(year: 2026, month: 7, day: 1)!
        let clock = FixedWallClock(at(start, 8))
        let db = try AppDatabase.inMemory(clock: clock)
        var ledger = Ledger()
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        _ = try await db.createOffice(Office(id: "xinhua", name: "新华警务室"))
        let roles: [(String, ExpertRole)] = [
            ("李法制", .legalOfficer), ("王律师", .lawyer), ("张律师", .lawyer), ("赵老", .retiree), ("孙专干", .communityStaff),
        ]
        for (i, (name, role)) in roles.enumerated() {
            let e = try await db.createExpert(
                Expert(name: name, role: role, offices: ["jinshan", "xinhua"], mobile: "1390000000\(i)"))
            ledger.experts.append(e.id)
        }
        let legal = ledger.experts[0]
        let lawyers = [ledger.experts[1], ledger.experts[2]]
        let staff = ledger.experts[4]
        let categories = ["noise", "pet", "property", "debt"]
        let results = OutcomeResult.allCases
        let risks: [RiskLevel] = [.low, .medium, .high, .critical, .medium, .low]
        var n = 0
        for i in 0..<36 {
            let office = i % 2 == 0 ? "jinshan" : "xinhua"
            let opened = start.adding(days: i * 2)
            clock.set(at(opened, 9, i % 50))
            let detail = try await db.openDispute(
                Dispute(
                    officeId: office, title: "纠纷 \(i)，\"邻里\"", category: categories[i % 4], risk: risks[i % risks.count]
                ),
                categories: Dispute.defaultCategories, actor: actor)
            let d = detail.dispute
            ledger.disputes.append((d.id, office, d.risk, d.openedAt))
            // Up to two sessions: the second only after an adjournment or no agreement.
            var k = 0
            while k < 2 {
                let day = opened.adding(days: 5 + 7 * k)
                let begin = at(day, 10 + k)
                let status: SessionStatus =
                    i % 9 == 4 && k == 0 ? .noShow : i % 11 == 7 && k == 0 ? .cancelled : i >= 33 ? .booked : .ended
                let panel = [legal, lawyers[i % 2]] + (i % 3 == 0 ? [] : [staff])
                let members = panel.enumerated().map { idx, e in
                    PanelMember(
                        expertId: e, requirementIndex: idx,
                        requirement: PanelRequirement(
                            role: e == legal ? .legalOfficer : e == staff ? .communityStaff : .lawyer),
                        invitation: (i + idx) % 5 == 0 ? .declined : (i + idx) % 4 == 0 ? .pending : .accepted,
                        lead: idx == 0)
                }
                clock.set(begin.addingTimeInterval(-86400))
                let s = try await db.importHistoricalSession(
                    Session(
                        disputeId: d.id, officeId: office, start: begin, end: begin.addingTimeInterval(5400),
                        status: status, panel: members), actor: actor)
                ledger.sessions.append((s.id, office, begin, status))
                for m in members {
                    ledger.seats.append(
                        .init(expert: m.expertId, status: status, invitation: m.invitation, start: begin))
                }
                guard status == .ended else {
                    if status == .booked { break }
                    // A missed or cancelled session puts the dispute back to open; book the next one.
                    _ = try await db.write { db in
                        try db.execute(sql: "UPDATE dispute SET status = 'open' WHERE id = ?", arguments: [d.id])
                    }
                    k += 1
                    continue
                }
                let result = results[n % results.count]
                n += 1
                clock.set(begin.addingTimeInterval(5400 + 3600))
                let recorded = try await db.recordOutcome(
                    session: s.id,
                    Outcome(
                        sessionId: s.id, result: result, terms: result.isSettlement ? "赔偿 \(i * 100).50 元" : nil,
                        amountFen: result.isSettlement ? Int64(i * 10_000 + 50) : nil, signed: result.isSettlement,
                        referredTo: result == .referredOther ? "司法所" : nil),
                    policy: FollowUpPolicy(), actor: actor)
                ledger.held.append(
                    .init(
                        session: s.id, dispute: d.id, office: office, category: d.category, result: result,
                        heldAt: begin.addingTimeInterval(5400), openedAt: d.openedAt, panel: panel))
                ledger.followUps += recorded.followUps
                if result == .adjourned || result == .noAgreement { k += 1 } else { break }
            }
        }
        // Visit results: the first visits of the quarter, by their day; one relapse and one criminal escalation.
        let due = ledger.followUps.filter { $0.dueOn <= LocalDate(year: 2026, month: 9, day: 20)! }
            .sorted { ($0.dueOn, $0.id) < ($1.dueOn, $1.id) }
        for (j, f) in due.enumerated() where j % 4 != 3 {
            let when = at(f.dueOn, 15)
            clock.set(when)
            let result: FollowUpResult = j == 2 ? .relapsed : j == 5 ? .escalated : .stable
            let escalation =
                result == .escalated
                ? Escalation(kind: .criminal, occurredOn: f.dueOn, caseReference: "金公立字(2026)118号") : nil
            _ = try await db.recordFollowUp(
                f.id, result: result, notes: "第\(j)次回访", escalation: escalation, actor: actor)
            ledger.recorded[f.id] = (result, when)
            if let escalation {
                let d = try #require(ledger.disputes.first { $0.id == f.disputeId })
                let category = try #require(ledger.held.first { $0.dispute == f.disputeId }?.category)
                ledger.escalations.append((d.id, d.office, category, escalation.kind, escalation.occurredOn))
            }
        }
        return (db, clock, ledger)
    }

    @Test func theOutcomesReportMatchesTheLedgerForEveryGrouping() async throws {
        let (db, clock, ledger) = try await Self.generate()
        clock.set(Self.at(LocalDate(year: 2026, month: 10, day: 8)!, 9))
        let interval = Self.quarter.interval(in: Self.zone)
        let held = ledger.held.filter { $0.heldAt >= interval.start && $0.heldAt < interval.end }
        #expect(held.count > 20)
        struct Figures: Equatable {
            var outcomes, agreements, partial, referrals: Int
            var rate: Double
            var mean, median: Double?
            var escalations: Int
        }
        func expected(_ list: [Ledger.Held], escalations: Int) -> Figures {
            let settled = list.filter { $0.result.isSettlement }
            let days = settled.map { $0.heldAt.timeIntervalSince($0.openedAt) / 86400 }.sorted()
            let mean = days.isEmpty ? nil : Stats.round(days.reduce(0, +) / Double(days.count), 1)
            let median =
                days.isEmpty
                ? nil
                : Stats.round(
                    days.count % 2 == 1 ? days[days.count / 2] : (days[days.count / 2 - 1] + days[days.count / 2]) / 2,
                    1)
            return Figures(
                outcomes: list.count, agreements: list.filter { $0.result == .agreement }.count,
                partial: list.filter { $0.result == .partialAgreement }.count,
                referrals: list.filter { $0.result.isReferral }.count,
                rate: list.isEmpty ? 0 : Stats.round(Double(settled.count) / Double(list.count), 4), mean: mean,
                median: median, escalations: escalations)
        }
        func actual(_ r: OutcomesReport.Row) -> Figures {
            Figures(
                outcomes: r.outcomes, agreements: r.agreements, partial: r.partialAgreements, referrals: r.referrals,
                rate: r.settlementRate, mean: r.meanDaysToAgreement, median: r.medianDaysToAgreement,
                escalations: r.escalations)
        }
        let all = try await db.outcomesReport(range: Self.quarter, by: nil, office: nil)
        #expect(actual(all.total) == expected(held, escalations: ledger.escalations.count))
        #expect(all.outcomeMix.map(\.count) == OutcomeResult.allCases.map { r in held.filter { $0.result == r }.count })
        #expect(all.total.noAgreements == held.filter { $0.result == .noAgreement }.count)
        #expect(all.total.adjourned == held.filter { $0.result == .adjourned }.count)

        let byOffice = try await db.outcomesReport(range: Self.quarter, by: .office, office: nil)
        #expect(byOffice.rows.map(\.key) == ["jinshan", "xinhua"])
        for row in byOffice.rows {
            let esc = ledger.escalations.filter { $0.office == row.key }.count
            #expect(actual(row) == expected(held.filter { $0.office == row.key }, escalations: esc), "\(row.key)")
        }
        let byCategory = try await db.outcomesReport(range: Self.quarter, by: .category, office: nil)
        #expect(Set(byCategory.rows.map(\.key)) == Set(held.map(\.category)))
        for row in byCategory.rows {
            let esc = ledger.escalations.filter { $0.category == row.key }.count
            #expect(actual(row) == expected(held.filter { $0.category == row.key }, escalations: esc), "\(row.key)")
        }
        let byExpert = try await db.outcomesReport(range: Self.quarter, by: .expert, office: nil)
        for row in byExpert.rows {
            let id = try #require(Int64(row.key))
            let mine = held.filter { $0.panel.contains(id) }
            let disputes = Set(mine.map(\.dispute))
            let esc = ledger.escalations.filter { disputes.contains($0.dispute) }.count
            #expect(actual(row) == expected(mine, escalations: esc), "expert \(id)")
        }
        // One office only.
        let jinshan = try await db.outcomesReport(range: Self.quarter, by: nil, office: "jinshan")
        #expect(jinshan.total.outcomes == held.filter { $0.office == "jinshan" }.count)
    }

    @Test func theExpertsReportMatchesTheLedgerAndItsGini() async throws {
        let (db, _, ledger) = try await Self.generate()
        let interval = Self.quarter.interval(in: Self.zone)
        let report = try await db.expertsReport(range: Self.quarter)
        let seats = ledger.seats.filter {
            $0.start >= interval.start && $0.start < interval.end && $0.status != .cancelled
        }
        var loads: [Double] = []
        for id in ledger.experts {
            let mine = seats.filter { $0.expert == id }
            let row = try #require(report.rows.first { $0.id == id })
            #expect(row.sessions == mine.count)
            #expect(row.held == mine.filter { $0.status == .ended }.count)
            #expect(row.accepted == mine.filter { $0.invitation == .accepted }.count)
            #expect(row.declined == mine.filter { $0.invitation == .declined }.count)
            // Never asked: no rate at all, not 0 %.
            let rate = mine.isEmpty ? nil : Stats.round(Double(row.accepted) / Double(mine.count), 4)
            #expect(row.acceptanceRate == rate)
            loads.append(Double(mine.count))
        }
        // The retiree never sat: a zero load counts in the spread.
        #expect(report.experts == ledger.experts.count)
        #expect(report.totalSessions == seats.count)
        let mean = loads.reduce(0, +) / Double(loads.count)
        var differences = 0.0
        for a in loads { for b in loads { differences += abs(a - b) } }
        let gini = differences / (2 * Double(loads.count * loads.count) * mean)
        #expect(report.gini == Stats.round(gini, 4))
        #expect(report.maxSessions == Int(loads.max() ?? 0))
        #expect(report.maxOverMean == Stats.round((loads.max() ?? 0) / mean, 2))
    }

    @Test func theWeeklyReportMatchesTheLedger() async throws {
        let (db, clock, ledger) = try await Self.generate()
        // Warnings raised during the week under review.
        let week = try ISOWeek.parse("2026-W33")
        clock.set(Self.at(week.monday.adding(days: 2), 12))
        let raised = try await db.checkWarnings(settings: WarningSettings())
        clock.set(Self.at(LocalDate(year: 2026, month: 10, day: 8)!, 9))
        let report = try await db.weeklyReport(week: week, office: nil)
        let start = Self.at(week.monday, 0)
        let end = Self.at(week.monday.adding(days: 7), 0)
        let asOfDay = week.sunday
        #expect(report.asOf == end)
        // Open disputes: as they stand now.
        let statuses = Dictionary(
            uniqueKeysWithValues: try await db.disputes().map { ($0.id, ($0.status, $0.risk)) })
        let open = ledger.disputes.filter { d in
            [.open, .scheduled, .inSession, .unresolved].contains(statuses[d.id]?.0) && d.openedAt < end
        }
        #expect(report.openTotal == open.count)
        for row in report.openByRisk {
            let list = open.filter { statuses[$0.id]?.1 == row.risk }
            #expect(row.count == list.count, "\(row.risk)")
            #expect(row.maxDaysOpen == (list.map { Int(end.timeIntervalSince($0.openedAt) / 86400) }.max() ?? 0))
        }
        #expect(
            report.sessionsHeld
                == ledger.sessions.filter { $0.status == .ended && $0.start >= start && $0.start < end }.count)
        #expect(
            report.sessionsComing
                == ledger.sessions.filter {
                    $0.status == .booked && $0.start >= end && $0.start < end.addingTimeInterval(7 * 86400)
                }.count)
        for (i, w) in report.sessionsPerWeek.enumerated() {
            #expect(w.week == week.adding(weeks: i - 7))
            let a = Self.at(w.week.monday, 0)
            let b = Self.at(w.week.monday.adding(days: 7), 0)
            #expect(w.sessions == ledger.sessions.filter { $0.status == .ended && $0.start >= a && $0.start < b }.count)
        }
        #expect(report.sessionsPerWeek.reduce(0) { $0 + $1.sessions } > 0)
        for c in report.outcomes {
            #expect(
                c.count
                    == ledger.held.filter { $0.result.rawValue == c.key && $0.heldAt >= start && $0.heldAt < end }.count
            )
        }
        #expect(
            report.followUpsDue == ledger.followUps.filter { $0.dueOn >= week.monday && $0.dueOn <= week.sunday }.count)
        #expect(
            report.followUpsOverdue
                == ledger.followUps.filter { ledger.recorded[$0.id] == nil && $0.dueOn < asOfDay }.count)
        #expect(
            report.followUpsDone
                == ledger.recorded.values.filter { $0.1 >= start && $0.1 < end }.count)
        for c in report.warnings { #expect(c.count == raised.filter { $0.rule.rawValue == c.key }.count) }
        #expect(report.warnings.reduce(0) { $0 + $1.count } == raised.count)
        let escalation = try #require(ledger.escalations.first)
        #expect(report.escalationsTotal == (escalation.on <= asOfDay ? 1 : 0))
        #expect(report.criminalTotal == report.escalationsTotal)
        #expect(
            report.daysSinceLastEscalation
                == (escalation.on <= asOfDay ? asOfDay.dayNumber - escalation.on.dayNumber : nil))
        let inWeek = escalation.on >= week.monday && escalation.on <= week.sunday ? 1 : 0
        #expect(report.escalations.first { $0.key == "criminal" }?.count == inWeek)
    }

    @Test func theWeeklyHTMLIsWellFormedAndItsChartsShowTheTablesNumbers() async throws {
        let (db, clock, _) = try await Self.generate()
        clock.set(Self.at(LocalDate(year: 2026, month: 10, day: 8)!, 9))
        let report = try await db.weeklyReport(week: try ISOWeek.parse("2026-W36"), office: nil)
        let document = report.document()
        let html = document.html()
        #expect(html.contains("@page { size: A4"))
        #expect(html.contains("<meta charset=\"utf-8\"/>"))
        #expect(!html.contains("http://") || !html.contains("src="))
        let parsed = try HTMLCharts.parse(html)
        // Sessions per week: the chart's bars are the "weeks" table's numbers.
        #expect(parsed.charts["chart-weeks"] == report.sessionsPerWeek.map(\.sessions))
        #expect(parsed.tables["weeks"]?.map { Int($0[1]) } == report.sessionsPerWeek.map(\.sessions))
        #expect(parsed.charts["chart-outcomes"] == parsed.tables["outcomes"]?.compactMap { Int($0[1]) })
        #expect(parsed.charts["chart-risk"] == parsed.tables["risk"]?.compactMap { Int($0[1]) })
        #expect(parsed.headline?.contains("天") == true)
        // Text that needs escaping stays text.
        let tricky = ReportDocument(
            title: "<script>&\"'", subtitle: "a < b", headline: nil,
            tables: [.init(id: "t", title: "x&y", header: ["<h>"], rows: [["\u{1}&"]])],
            charts: [.init(id: "c", title: "<c>", bars: [.init(label: "\"q\"", value: 3)])])
        let again = try HTMLCharts.parse(tricky.html())
        #expect(again.charts["c"] == [3])
        #expect(again.tables["t"] == [["&"]])
    }

    @Test func exportsAreReadBackWithTheirBOMAndQuoting() async throws {
        let (db, clock, ledger) = try await Self.generate()
        clock.set(Self.at(LocalDate(year: 2026, month: 10, day: 8)!, 9))
        let disputes = try await db.exportDisputes(range: Self.quarter, office: nil)
        #expect(Array(disputes.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let records = try CSV.parse(try CSV.decodeUTF8(Array(disputes.utf8)))
        #expect(records.count == ledger.disputes.count + 1)
        #expect(records[1].fields[2] == "纠纷 0，\"邻里\"")
        let outcomes = try CSV.parse(
            try CSV.decodeUTF8(Array(try await db.exportOutcomes(range: Self.quarter, office: "xinhua").utf8)))
        let interval = Self.quarter.interval(in: Self.zone)
        let xinhua = ledger.held.filter {
            $0.office == "xinhua" && $0.heldAt >= interval.start && $0.heldAt < interval.end
        }
        .sorted { ($0.heldAt, $0.session) < ($1.heldAt, $1.session) }
        #expect(outcomes.count == xinhua.count + 1)
        #expect(outcomes.dropFirst().map { $0.fields[2] } == xinhua.map(\.result.rawValue))
        let amounts = outcomes.dropFirst().compactMap { Text.nonEmpty($0.fields[4]) }
        #expect(amounts.allSatisfy { $0.hasSuffix(".50") })
        let sessions = try CSV.parse(
            try CSV.decodeUTF8(Array(try await db.exportSessions(range: Self.quarter, office: nil).utf8)))
        #expect(
            sessions.count == ledger.sessions.filter { $0.start >= interval.start && $0.start < interval.end }.count + 1
        )
    }

    @Test func badInputWritesNothing() async throws {
        let (db, clock, ledger) = try await Self.generate()
        let first = try #require(ledger.held.first)
        await #expect(throws: MediationError.self) {
            _ = try await db.recordOutcome(
                session: first.session, Outcome(sessionId: first.session, result: .noAgreement),
                policy: FollowUpPolicy(),
                actor: Self.actor)
        }
        // A booked session in the future has not ended.
        let booked = try #require(ledger.sessions.first { $0.status == .booked })
        clock.set(booked.start.addingTimeInterval(-3600))
        let before = try await db.outcomes().count
        do {
            _ = try await db.recordOutcome(
                session: booked.id, Outcome(sessionId: booked.id, result: .agreement, terms: "x"),
                policy: FollowUpPolicy(), actor: Self.actor)
            Issue.record("an outcome for a session not ended was accepted")
        } catch let e as MediationError {
            #expect(e.kind == .conflict)
            #expect(e.message.contains("has not ended"))
        }
        #expect(try await db.outcomes().count == before)
        // A visit more than a day ahead.
        let later = try #require(try await db.followUps(scope: .open).max { $0.dueOn < $1.dueOn })
        clock.set(Self.at(later.dueOn.adding(days: -2), 12))
        do {
            _ = try await db.recordFollowUp(later.id, result: .stable, notes: nil, escalation: nil, actor: Self.actor)
            Issue.record("a visit two days ahead was recorded")
        } catch let e as MediationError {
            #expect(e.kind == .invalidInput)
        }
        #expect(try await db.followUps(scope: .all).first { $0.id == later.id }?.result == nil)
    }

    @Test func aRelapseReopensAndAnEscalationRaisesTheRiskWithItsHistory() async throws {
        let (db, _, ledger) = try await Self.generate()
        let relapsed = try #require(ledger.recorded.first { $0.value.0 == .relapsed }?.key)
        let visit = try #require(ledger.followUps.first { $0.id == relapsed })
        let detail = try await db.dispute(String(visit.disputeId))
        #expect(detail.statusHistory.contains { $0.to == .open && $0.reason.contains("relapsed") })
        let escalated = try #require(ledger.escalations.first)
        let e = try await db.dispute(String(escalated.dispute))
        #expect(e.dispute.risk == .critical)
        let change = try #require(e.riskHistory.last)
        #expect(change.to == .critical && change.reason.contains("criminal") && change.user == "tester")
        #expect(try await db.escalations(dispute: String(escalated.dispute)).count == 1)
    }
}

/// Reads the report HTML as XML: every chart's `data-value`s and every table's body cells.
final class HTMLCharts: NSObject, XMLParserDelegate {
    var charts: [String: [Int]] = [:]
    var tables: [String: [[String]]] = [:]
    var headline: String?
    private var figure: String?
    private var table: String?
    private var row: [String]?
    private var cell: String?
    private var inHeadline = false

    static func parse(_ html: String) throws -> HTMLCharts {
        let parser = XMLParser(data: Data(html.utf8))
        let reader = HTMLCharts()
        parser.delegate = reader
        guard parser.parse() else {
            throw MediationError.invalidInput("not well-formed: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        return reader
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "figure": figure = attributes["id"]
        case "rect":
            if let figure, let v = attributes["data-value"].flatMap(Int.init) { charts[figure, default: []].append(v) }
        case "table": table = attributes["id"]
        case "tr": row = []
        case "td": cell = ""
        case "div": inHeadline = attributes["id"] == "headline"
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if cell != nil { cell? += string }
        if inHeadline { headline = (headline ?? "") + string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "figure": figure = nil
        case "td": if let c = cell { row?.append(c) }; cell = nil
        case "tr": if let table, let r = row, !r.isEmpty { tables[table, default: []].append(r) }; row = nil
        case "table": table = nil
        case "div": inHeadline = false
        default: break
        }
    }
}
