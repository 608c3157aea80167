import Foundation
import Testing

@testable import MediationCore

/// When a session may be started, ended or missed; when its links are given out; evenings and weekends outside the
/// office's hours; and what correcting an outcome does to its dispute and its visits.
@Suite struct SessionTimingAndCorrectionTests {
    /// Wednesday 2026-12-09 14:00 in Shanghai (06:00Z), 90 minutes.
    let session = Session(
        id: 4, disputeId: 1, officeId: "jinshan", start: Date(timeIntervalSince1970: 1_796_796_000),
        end: Date(timeIntervalSince1970: 1_796_796_000 + 5400), panel: [])

    func at(minutesFromStart m: Double) -> Date { session.start.addingTimeInterval(m * 60) }

    func refusal(_ target: SessionStatus, at now: Date, margin: Int = 30) -> MediationError? {
        do {
            try session.checkMarkable(target, now: now, startMarginMinutes: margin, zone: .shanghai)
            return nil
        } catch let e as MediationError { return e } catch { return MediationError(.invalidInput, "\(error)") }
    }

    @Test func aSessionStartsFromItsMarginAndEndsOrIsMissedFromItsStart() throws {
        // Days early, as the issue saw: refused, saying from when, in the office's time.
        let early = try #require(refusal(.inSession, at: at(minutesFromStart: -4 * 1440)))
        #expect(early.kind == .conflict)
        #expect(
            early.message.contains("session #4 starts 2026-12-09T14:00:00+08:00")
                && early.message.contains("started from 2026-12-09T13:30:00+08:00 (30 minutes before its start)"),
            "\(early.message)")
        #expect(refusal(.inSession, at: at(minutesFromStart: -31)) != nil)
        #expect(refusal(.inSession, at: at(minutesFromStart: -30)) == nil)
        #expect(refusal(.inSession, at: at(minutesFromStart: 200)) == nil, "a late start is a start")
        // The margin is the configuration's.
        #expect(refusal(.inSession, at: at(minutesFromStart: -50), margin: 60) == nil)
        #expect(refusal(.inSession, at: at(minutesFromStart: -1), margin: 0) != nil)
        for target in [SessionStatus.ended, .noShow] {
            let before = try #require(refusal(target, at: at(minutesFromStart: -1)), "\(target)")
            #expect(before.kind == .conflict && before.message.contains("from its start"), "\(before.message)")
            #expect(refusal(target, at: at(minutesFromStart: 0)) == nil, "\(target)")
            #expect(refusal(target, at: at(minutesFromStart: 3 * 1440)) == nil, "\(target)")
        }
        #expect(refusal(.cancelled, at: at(minutesFromStart: -4 * 1440)) == nil, "a cancellation is for before")
    }

    @Test func linksAreGivenOutOnlyWhileASessionIsBookedOrUnderWay() throws {
        for status in SessionStatus.allCases {
            var s = session
            s.status = status
            if status == .booked || status == .inSession {
                try s.checkLinksAvailable()
            } else {
                let e = try #require(throws: MediationError.self) { try s.checkLinksAvailable() }
                #expect(e.kind == .conflict && e.message.contains("session #4 is \(status.rawValue)"), "\(e.message)")
            }
        }
    }

    @Test func outsideOfficeHoursTheFinderFollowsOnlyHolidaysExpertsAndParties() throws {
        let zone = Zone.shanghai
        func instant(_ day: Int, _ hour: Int) -> Date {
            zone.instant(
                LocalDate(year: 2026, month: 12, day: day) ?? LocalDate(dayNumber: 0),
                TimeOfDay(minutes: hour * 60) ?? .midnight)
        }
        // The party can come only on Saturday 12 December and Tuesday 8 December from 19:00 to 21:00; the office
        // works weekdays 09:00–12:00 and 14:00–18:00.
        let party = [
            Interval(start: instant(8, 19), end: instant(8, 21)),
            Interval(start: instant(12, 19), end: instant(12, 21)),
        ]
        let lawyer = SlotCandidate(
            id: 1, name: "王芳", role: .lawyer,
            weeklyHours: (try? WeeklyWindow.parseList("mon-sun 08:00-22:00", field: "hours")) ?? [])
        var search = SlotSearch(
            requirements: [PanelRequirement(role: .lawyer)], durationMinutes: 90,
            window: Interval(start: instant(7, 0), end: instant(14, 0)), now: instant(1, 8),
            officeHours: Office.defaultWorkingHours,
            holidays: [LocalDate(year: 2026, month: 12, day: 8)].compactMap { $0 },
            parties: [party], candidates: [lawyer], maxOptions: 10)
        let inside = try SlotFinder.find(search)
        #expect(inside.options.isEmpty)
        #expect(inside.reasons.contains { $0.contains("inside office hours") }, "\(inside.reasons)")

        search.outsideOfficeHours = true
        let outside = try SlotFinder.find(search)
        #expect(!outside.options.isEmpty)
        // Saturday evening only: the Tuesday evening is a holiday, and the party's hours bound every start.
        #expect(
            outside.options.allSatisfy { $0.start >= instant(12, 19) && $0.end <= instant(12, 21) },
            "\(outside.options.map(\.start))")

        // The expert's own hours still hold.
        search.candidates = [
            SlotCandidate(
                id: 1, name: "王芳", role: .lawyer,
                weeklyHours: (try? WeeklyWindow.parseList("mon-fri 09:00-18:00", field: "hours")) ?? [])
        ]
        let busy = try SlotFinder.find(search)
        #expect(busy.options.isEmpty, "\(busy.options.map(\.start))")
        #expect(!busy.reasons.contains { $0.contains("inside office hours") }, "\(busy.reasons)")
    }

    @Test func anAmendmentReplacesWhatItGivesAndIsCheckedAsARecord() throws {
        let recorded = Outcome(
            id: 7, sessionId: 4, disputeId: 1, result: .agreement, terms: "王某赔偿 1200 元", amountFen: 100,
            signed: true)
        let amount = try OutcomeAmendment(amountFen: 120_000).applied(to: recorded)
        #expect(amount.amountFen == 120_000 && amount.terms == recorded.terms && amount.signed)
        #expect(!amount.sameRecord(as: recorded))
        #expect(try OutcomeAmendment(amountFen: .some(nil)).applied(to: recorded).amountFen == nil)
        #expect(try OutcomeAmendment(amountFen: 100).applied(to: recorded).sameRecord(as: recorded))
        #expect(OutcomeAmendment(reason: "只有理由").isEmpty)
        // An agreement keeps needing its terms.
        #expect(throws: MediationError.self) { try OutcomeAmendment(terms: "").applied(to: recorded) }
        // A referee belongs to its referral: another result drops it, or names its own.
        let referred = Outcome(sessionId: 4, result: .referredOther, referredTo: "区信访局")
        #expect(try OutcomeAmendment(result: .referredCourt).applied(to: referred).referredTo == "court")
        #expect(try OutcomeAmendment(result: .noAgreement).applied(to: referred).referredTo == nil)
        #expect(try OutcomeAmendment(notes: "补记").applied(to: referred).referredTo == "区信访局")
    }

    @Test func aCorrectionMovesVisitsAndTheDisputeOnlyWhereTheOutcomeLeftThem() {
        #expect(OutcomeCorrection.visits(from: .agreement, to: .noAgreement) == .cancel)
        #expect(OutcomeCorrection.visits(from: .agreement, to: nil) == .cancel)
        #expect(OutcomeCorrection.visits(from: .adjourned, to: .partialAgreement) == .plan)
        #expect(OutcomeCorrection.visits(from: .agreement, to: .partialAgreement) == .keep)
        #expect(OutcomeCorrection.visits(from: .noAgreement, to: nil) == .keep)

        func status(_ current: DisputeStatus, _ old: OutcomeResult, _ new: OutcomeResult?, latest: Bool = true)
            -> DisputeStatus?
        {
            OutcomeCorrection.disputeStatus(current: current, from: old, to: new, latestSession: latest)
        }
        #expect(status(.resolved, .agreement, .noAgreement) == .unresolved)
        #expect(status(.unresolved, .adjourned, .agreement) == .resolved)
        #expect(status(.resolved, .agreement, .partialAgreement) == nil, "already where the new result leads")
        #expect(status(.resolved, .agreement, nil) == .inSession, "voided: back to waiting for the outcome")
        #expect(status(.open, .agreement, nil) == .inSession, "voided after a 'dispute reopen'")
        #expect(status(.open, .agreement, .noAgreement) == nil, "amended after a reopen: the reopen stands")
        #expect(status(.scheduled, .noAgreement, nil) == nil, "booked again since")
        #expect(status(.unresolved, .noAgreement, nil, latest: false) == nil, "a later session's outcome stands")
    }
}
