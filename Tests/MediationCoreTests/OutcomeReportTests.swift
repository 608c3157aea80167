import Foundation
import Testing

@testable import MediationCore

@Suite struct OutcomeReportTests {
    @Test func isoWeeksAreReadStrictly() throws {
        #expect(ISOWeek(parsing: "2026-W49")?.monday == LocalDate(year: 2026, month: 11, day: 30))
        #expect(ISOWeek(parsing: "2026-w01")?.monday == LocalDate(year: 2025, month: 12, day: 29))
        #expect(ISOWeek(parsing: "2026-W53")?.sunday == LocalDate(year: 2027, month: 1, day: 3))
        for bad in ["2026-49", "W49", "2026-W54", "2025-W53", "2026-W00", "2026W49", "26-W49", "2026-W4", ""] {
            #expect(ISOWeek(parsing: bad) == nil, "\(bad)")
        }
        #expect(throws: MediationError.self) { try ISOWeek.parse("2026-49") }
        // The week holding a date, around year ends.
        #expect(ISOWeek(containing: LocalDate(year: 2027, month: 1, day: 1)!).description == "2026-W53")
        #expect(ISOWeek(containing: LocalDate(year: 2024, month: 12, day: 30)!).description == "2025-W01")
        #expect(ISOWeek(containing: LocalDate(year: 2026, month: 12, day: 3)!).description == "2026-W49")
        #expect(try ISOWeek.parse("2026-W01").adding(weeks: -1).description == "2025-W52")
    }

    @Test func rangesRefuseFromAfterTo() throws {
        #expect(throws: MediationError.self) { try DayRange(from: "2026-12-31", to: "2026-10-01", today: nil) }
        #expect(throws: MediationError.self) { try DayRange(from: "2026-13-01", to: "2026-12-31", today: nil) }
        let r = try DayRange(from: "2026-10-01", to: "2026-10-01", today: nil)
        #expect(r.interval(in: .shanghai).duration == 86400)
    }

    @Test func amountsAreWholeFen() throws {
        #expect(try Money.parseFen("1200.50") == 120_050)
        #expect(try Money.parseFen("1200.5") == 120_050)
        #expect(try Money.parseFen("¥1,200元") == 120_000)
        #expect(try Money.parseFen("0.07") == 7)
        for bad in ["12.345", "-3", "abc", "", "1.2.3", ".5"] {
            #expect(throws: MediationError.self, "\(bad)") { try Money.parseFen(bad) }
        }
        #expect(Money.format(fen: 120_050) == "1200.50")
        // 0.1 + 0.2 in fen stays exact.
        #expect(try Money.parseFen("0.10") + Money.parseFen("0.20") == Money.parseFen("0.30"))
    }

    @Test func outcomesMoveTheDisputeAndCheckTheirFields() throws {
        #expect(OutcomeResult.agreement.disputeStatus == .resolved)
        #expect(OutcomeResult.partialAgreement.disputeStatus == .resolved)
        #expect(OutcomeResult.noAgreement.disputeStatus == .unresolved)
        #expect(OutcomeResult.adjourned.disputeStatus == .unresolved)
        #expect(OutcomeResult.referredPolice.disputeStatus == .referred)
        #expect(OutcomeResult(parsing: "partial-agreement") == .partialAgreement)
        #expect(OutcomeResult(parsing: "settled") == nil)
        // Every target is reachable from in_session by the existing state machine.
        for r in OutcomeResult.allCases { try DisputeStatus.inSession.check(r.disputeStatus, dispute: "X") }
        #expect(throws: MediationError.self) { try Outcome(sessionId: 1, result: .agreement).validated() }
        #expect(throws: MediationError.self) { try Outcome(sessionId: 1, result: .referredOther).validated() }
        #expect(try Outcome(sessionId: 1, result: .referredCourt).validated().referredTo == "court")
        let s = Session(
            id: 4, disputeId: 1, officeId: "x", start: Date(timeIntervalSince1970: 1000),
            end: Date(timeIntervalSince1970: 2000), panel: [])
        #expect(throws: MediationError.self) {
            try Outcome.checkConcluded(s, now: Date(timeIntervalSince1970: 1500), zone: .shanghai)
        }
        try Outcome.checkConcluded(s, now: Date(timeIntervalSince1970: 2000), zone: .shanghai)
        // The hint names the next move the session can make, never one its state refuses (issue 14, item 13): a
        // booked session is started first ('session end' of a booked session is refused); one in session is ended.
        do {
            try Outcome.checkConcluded(s, now: Date(timeIntervalSince1970: 1500), zone: .shanghai)
            Issue.record("a booked session has no outcome before its end")
        } catch let error as MediationError {
            let text = "\(error)"
            #expect(text.contains("(booked, from "), "\(text)")
            #expect(
                text.contains("mark it started with 'session start 4' when it begins and ended with 'session end 4'"),
                "\(text)")
            #expect(throws: MediationError.self) { try SessionStatus.booked.check(.ended, session: 4) }
        }
        var started = s
        started.status = .inSession
        do {
            try Outcome.checkConcluded(started, now: Date(timeIntervalSince1970: 1500), zone: .shanghai)
            Issue.record("a session in progress has no outcome yet")
        } catch let error as MediationError {
            let text = "\(error)"
            #expect(
                text.contains("mark it ended with 'session end 4' when it is over") && !text.contains("session start"))
            try SessionStatus.inSession.check(.ended, session: 4)
        }
        var missed = s
        missed.status = .noShow
        #expect(throws: MediationError.self) {
            try Outcome.checkConcluded(missed, now: Date(timeIntervalSince1970: 9000), zone: .shanghai)
        }
    }

    @Test func followUpPlansFollowThePolicyAndRisk() throws {
        let day = try #require(LocalDate(year: 2026, month: 12, day: 1))
        let policy = FollowUpPolicy()
        #expect(policy.plan(agreedOn: day, risk: .low).map(\.day.description) == ["2026-12-04", "2026-12-31"])
        #expect(policy.offsets(risk: .high) == [1, 3, 7, 30])
        #expect(policy.offsets(risk: .critical) == [1, 3, 7, 30])
        #expect(FollowUpPolicy(afterAgreementDays: [3, 3], highRiskExtraDays: [3]).offsets(risk: .high) == [3])
        #expect(throws: MediationError.self) { try FollowUpPolicy(afterAgreementDays: [0]).validated() }
        let visit = FollowUp(disputeId: 1, sessionId: 1, outcomeId: 1, officeId: "x", dueOn: day, offsetDays: 3)
        try visit.checkRecordable(today: day.adding(days: -1))
        #expect(throws: MediationError.self) { try visit.checkRecordable(today: day.adding(days: -2)) }
        #expect(visit.isOverdue(today: day.adding(days: 1)))
        #expect(!visit.isOverdue(today: day))
    }

    @Test func giniAndLoadFigures() {
        #expect(Stats.gini([2, 2, 2, 2]) == 0)
        #expect(Stats.gini([]) == 0)
        #expect(Stats.gini([0, 0, 0]) == 0)
        // One of four holds everything: (n − 1) / n.
        #expect(abs(Stats.gini([0, 0, 0, 8]) - 0.75) < 1e-12)
        // Against the double sum.
        let x: [Double] = [1, 5, 2, 9, 0, 3]
        var d = 0.0
        for a in x { for b in x { d += abs(a - b) } }
        let mean = x.reduce(0, +) / Double(x.count)
        #expect(abs(Stats.gini(x) - d / (2 * 36 * mean)) < 1e-12)
        #expect(Stats.median([3, 1, 2]) == 2)
        #expect(Stats.median([4, 1, 2, 3]) == 2.5)
        let range = try! DayRange(from: "2026-10-01", to: "2026-10-31", today: nil)
        let experts = [
            ExpertRow(id: 1, name: "甲", role: .lawyer, active: true),
            ExpertRow(id: 2, name: "乙", role: .lawyer, active: true),
            ExpertRow(id: 3, name: "丙", role: .retiree, active: false),
        ]
        let seats = [
            SeatRow(sessionId: 1, expertId: 1, status: .ended, invitation: .accepted),
            SeatRow(sessionId: 2, expertId: 1, status: .booked, invitation: .declined),
            SeatRow(sessionId: 3, expertId: 1, status: .cancelled, invitation: .accepted),
            SeatRow(sessionId: 4, expertId: 2, status: .ended, invitation: .accepted),
        ]
        let r = ExpertsReport.compute(range: range, experts: experts, seats: seats)
        #expect(r.rows.map(\.id) == [1, 2])
        #expect(r.rows[0].sessions == 2 && r.rows[0].acceptanceRate == 0.5 && r.rows[0].declined == 1)
        #expect(r.maxSessions == 2 && r.meanSessions == 1.5 && r.maxOverMean == 1.33)
        #expect(r.gini == Stats.round(Stats.gini([2, 1]), 4))
    }

    @Test func warningRulesUseTheInjectedClock() throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let since = clock.now()
        let day = Zone.shanghai.wallClock(since).date
        let input = WarningInput(
            disputes: [
                .init(id: 1, number: "A", officeId: "x", risk: .high, status: .open, waitingSince: since),
                .init(id: 2, number: "B", officeId: "x", risk: .medium, status: .open, waitingSince: since),
                .init(id: 3, number: "C", officeId: "x", risk: .critical, status: .scheduled, waitingSince: since),
            ],
            noShows: [
                .init(disputeId: 4, number: "D", officeId: "x", count: 2),
                .init(disputeId: 5, number: "E", officeId: "x", count: 1),
            ],
            followUps: [
                (
                    FollowUp(
                        id: 7, disputeId: 6, sessionId: 1, outcomeId: 1, officeId: "x", dueOn: day.adding(days: 4),
                        offsetDays: 3), "F"
                ),
                (
                    FollowUp(
                        id: 8, disputeId: 6, sessionId: 1, outcomeId: 1, officeId: "x", dueOn: day, offsetDays: 1,
                        result: .relapsed), "F"
                ),
            ],
            zones: ["x": .shanghai])
        func rules() throws -> [String] {
            try WarningRules.evaluate(input, settings: WarningSettings(), now: clock.now()).map {
                "\($0.rule.rawValue) \($0.subject)"
            }.sorted()
        }
        #expect(try rules() == ["no_shows dispute:4", "relapse followup:8"])
        clock.advance(by: 3 * 86400)
        #expect(try rules() == ["no_shows dispute:4", "relapse followup:8"])
        clock.advance(by: 60)
        #expect(try rules() == ["no_shows dispute:4", "relapse followup:8", "stalled_high_risk dispute:1"])
        clock.advance(by: 2 * 86400)
        #expect(try rules().contains("overdue_followup followup:7"))
        let off = try WarningRules.evaluate(input, settings: WarningSettings(rules: [.relapse]), now: clock.now())
        #expect(off.map(\.rule) == [.relapse])
    }

    @Test func csvOfADocumentHasABOMAndReadsBack() throws {
        let doc = ReportDocument(
            title: "周报", subtitle: "s", headline: "距上次 3 天",
            tables: [.init(id: "t", title: "表", header: ["a", "b"], rows: [["x,y", "\"q\"\n2"]])], charts: [])
        let text = doc.csv()
        #expect(Array(text.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let records = try CSV.parse(try CSV.decodeUTF8(Array(text.utf8)))
        #expect(records.last?.fields == ["x,y", "\"q\"\n2"])
        #expect(records.contains { $0.fields == ["a", "b"] })
    }
}
