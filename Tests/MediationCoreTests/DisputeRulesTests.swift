import Foundation
import Testing

@testable import MediationCore

@Suite struct DisputeRulesTests {
    @Test func statusMovesFollowTheStateMachine() throws {
        // Every legal move passes; every other one throws a conflict that lists where it can go.
        for from in DisputeStatus.allCases {
            for to in DisputeStatus.allCases {
                if from.next.contains(to) {
                    try from.check(to, dispute: "JS-2026-0001")
                } else {
                    do {
                        try from.check(to, dispute: "JS-2026-0001")
                        Issue.record("\(from) → \(to) should be refused")
                    } catch let e as MediationError {
                        #expect(e.kind == .conflict)
                        #expect(e.message.contains("JS-2026-0001 is \(from.rawValue)"))
                        #expect(e.message.contains(from.next.map(\.rawValue).joined(separator: ", ")))
                    }
                }
            }
        }
        #expect(DisputeStatus.open.next == [.scheduled, .closed])
        #expect(DisputeStatus.closed.next == [.open])
        #expect(DisputeStatus.inSession.next.contains(.referred))
    }

    @Test func refusedMovesSayWhatToDoAndClosedDisputesAreKept() throws {
        func message(_ from: DisputeStatus, _ to: DisputeStatus) -> String {
            do { try from.check(to, dispute: "JS-2026-0001") } catch let e as MediationError { return e.message } catch
            {
                return "\(error)"
            }
            return ""
        }
        #expect(
            message(.scheduled, .closed).hasSuffix(
                "cancel its booked session first ('session cancel SESSION --reason …')"))
        #expect(message(.scheduled, .resolved).hasSuffix("hold its session, then record the session's outcome"))
        #expect(message(.inSession, .closed).hasSuffix("end its session and record the outcome first"))
        #expect(message(.resolved, .scheduled).hasSuffix("it can become: closed, open)"))
        #expect(throws: MediationError.self) { try DisputeStatus.closed.checkEditable(dispute: "JS-2026-0001") }
        for status in DisputeStatus.allCases where status != .closed {
            try status.checkEditable(dispute: "JS-2026-0001")
        }
    }

    @Test func categoriesAreTakenAsConfiguredThenByTheirChineseNames() {
        let defaults = Dispute.defaultCategories
        #expect(Dispute.category(typed: " Noise ", categories: defaults) == "noise")
        #expect(Dispute.category(typed: "噪音", categories: defaults) == "noise")
        #expect(Dispute.category(typed: "邻里纠纷", categories: defaults) == "neighbour")
        // An office that configures Chinese categories keeps them as they are.
        #expect(Dispute.category(typed: "噪音", categories: ["噪音", "其他"]) == "噪音")
        // An alias to a category the office does not use is left for validation to refuse.
        #expect(Dispute.category(typed: "宠物", categories: ["noise"]) == "宠物")
    }

    @Test func typedTextIsBoundedAndPlain() {
        #expect(Text.problem("李明", "party name", max: 100) == nil)
        #expect(
            Text.problem(String(repeating: "长", count: 101), "party name", max: 100)?.contains("keep it to 100") == true
        )
        #expect(Text.problem("a\u{0}b", "title", max: 200)?.contains("control character") == true)
        #expect(Text.problem("第一行\n第二行", "development", max: 2000, multiline: true) == nil)
        #expect(Text.problem("第一行\n第二行", "title", max: 200) != nil)
        #expect(Text.problem(nil, "title", max: 200) == nil)
    }

    @Test func idCardNumbersAreCheckedAndMasked() {
        #expect(IDCard.normalize("11010519491231002x") == "11010519491231002X")
        #expect(IDCard.normalize("110105194912310021") == nil, "wrong check digit")
        #expect(IDCard.normalize("1101051949123100") == nil, "too short")
        #expect(IDCard.mask("430103199001011234") == "4301**********1234")
        let party = Party(name: "李明", side: .applicant, idCard: "11010519491231002X")
        #expect(party.masked().idCard == "1101**********002X")
    }

    @Test func partiesAreValidatedAllAtOnce() {
        let bad = Party(
            name: " ", side: .other, mobile: "12345", idCard: "110105194912310021", timeZone: "Mars/Base",
            weeklyWindows: [
                WeeklyWindow(weekday: .monday, start: TimeOfDay(minutes: 600)!, end: TimeOfDay(minutes: 540)!)
            ])
        do {
            _ = try bad.validated()
            Issue.record("should throw")
        } catch let e as MediationError {
            #expect(e.details.count == 5, "\(e.details)")
            #expect(e.message.contains("Mars/Base"))
            #expect(e.message.contains("1101**********0021"), "the refused number is shown masked")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func partyFreeTimeIsWeeklyPlusDated() throws {
        let zone = try Zone("Asia/Shanghai")
        let range = Interval(
            start: zone.instant(LocalDate(year: 2026, month: 12, day: 7)!, .midnight),
            end: zone.instant(LocalDate(year: 2026, month: 12, day: 14)!, .midnight))
        let p = Party(
            name: "李明", side: .applicant,
            weeklyWindows: try WeeklyWindow.parseList("sat 09:00-12:00", field: "t"),
            datedWindows: [
                Interval(
                    start: zone.instant(LocalDate(year: 2026, month: 12, day: 8)!, TimeOfDay(minutes: 1140)!),
                    end: zone.instant(LocalDate(year: 2026, month: 12, day: 8)!, TimeOfDay(minutes: 1260)!))
            ])
        let free = try p.free(in: range)
        #expect(free.count == 2)
        #expect(free.reduce(0) { $0 + $1.duration } == 5 * 3600)
        #expect(try Party(name: "x", side: .other).free(in: range) == [range], "no windows: any time")
    }

    @Test func requirementsParseBothLanguages() throws {
        let r = try PanelRequirement(parsing: "2*律师:Property@上海话")
        #expect(r.role == .lawyer && r.count == 2 && r.specialty == "property" && r.language == "上海话")
        #expect(r.description == "2*lawyer:property@上海话")
        #expect(try PanelRequirement(parsing: r.description) == r)
        #expect(throws: MediationError.self) { try PanelRequirement(parsing: "judge") }
        #expect(throws: MediationError.self) { try PanelRequirement(parsing: "9*lawyer") }
        #expect(r.admits(role: .lawyer, specialties: ["property"], languages: ["上海话"]))
        #expect(!r.admits(role: .lawyer, specialties: ["family"], languages: ["上海话"]))
    }

    @Test func highRiskAddsALegalOfficer() {
        let policy = PanelPolicy(name: "light", requirements: [PanelRequirement(role: .lawyer)])
        #expect(policy.requirements(for: .high, legalOfficerFrom: .high).map(\.role) == [.legalOfficer, .lawyer])
        #expect(policy.requirements(for: .medium, legalOfficerFrom: .high).map(\.role) == [.lawyer])
        #expect(PanelPolicy.standard.requirements(for: .critical, legalOfficerFrom: .high).count == 3)
    }

    @Test func conflictsMatchPartiesAndOrganisations() {
        let parties = [
            Party(id: 3, name: "王强", side: .respondent, organisation: "金山 物业公司"),
            Party(id: 4, name: "李明", side: .applicant),
        ]
        #expect(Conflict(expertId: 1, partyId: 4, reason: nil).concerns(parties))
        #expect(Conflict(expertId: 1, organisation: "金山物业公司", reason: nil).concerns(parties))
        #expect(!Conflict(expertId: 1, organisation: "新华物业", reason: nil).concerns(parties))
        #expect(!Conflict(expertId: 1, partyId: 9, reason: nil).concerns(parties))
    }

    @Test func disputeNumbersAndValidation() throws {
        #expect(Dispute.number(prefix: "JS", year: 2026, sequence: 42) == "JS-2026-0042")
        let d = Dispute(officeId: "jinshan", title: "  噪音  ", category: "Noise")
        #expect(try d.validated(categories: Dispute.defaultCategories, zone: .shanghai).category == "noise")
        var bad = Dispute(officeId: "jinshan", title: "", category: "quarrel")
        bad.elements.scale = 0
        do {
            _ = try bad.validated(categories: Dispute.defaultCategories, zone: .shanghai)
            Issue.record("should throw")
        } catch let e as MediationError {
            #expect(e.details.count == 3)
            #expect(e.message.contains("category 'quarrel' is not one of neighbour"))
        }
        #expect(RiskLevel(parsing: "极高") == .critical && RiskLevel(parsing: "高风险") == .high)
        #expect(RiskLevel.low < RiskLevel.critical)
    }
}

/// Issue 14, item 15: one rule for "did you mean", used by expert and party lookups.
@Suite struct NameSuggestionTests {
    @Test func oneCharacterSubstitutedMissingOrExtra() {
        let names = ["黄文博", "陈志远", "王建国", "王建", "Li Ming"]
        #expect(NameSuggestion.near("黄文波", among: names) == ["黄文博"])
        #expect(NameSuggestion.near("陈志", among: names) == ["陈志远"])
        #expect(NameSuggestion.near("陈志远远", among: names) == ["陈志远"])
        // 王建国 (one substituted) and 王建 (one missing) are both a slip away from 王建华.
        #expect(NameSuggestion.near("王建华", among: names) == ["王建国", "王建"])
        #expect(NameSuggestion.near(" li ming ", among: names) == [])
        #expect(NameSuggestion.near("li mang", among: names) == ["Li Ming"])
    }

    @Test func farNamesShortNamesAndRepeatsSuggestNothingOrOnce() {
        #expect(NameSuggestion.near("欧阳修", among: ["黄文博", "陈志远"]).isEmpty)
        #expect(NameSuggestion.near("黄", among: ["王"]).isEmpty)
        #expect(NameSuggestion.near("黄文波", among: ["黄文博", "黄文博"]) == ["黄文博"])
        #expect(NameSuggestion.near("ab", among: ["ac", "ad", "ae", "af"]).count == NameSuggestion.limit)
        #expect(NameSuggestion.didYouMean("黄文波", among: ["黄文博", "黄文"]) == "did you mean 黄文博 or 黄文?")
        #expect(NameSuggestion.didYouMean("欧阳修", among: ["黄文博"]) == nil)
    }
}

/// Issue 14, item 10: the same person entered twice in one dispute.
@Suite struct SamePartyTests {
    func party(_ name: String, mobile: String? = nil, idCard: String? = nil) throws -> Party {
        try Party(name: name, side: .applicant, mobile: mobile, idCard: idCard).validated()
    }

    @Test func sameNameAndMobileIsTheSamePerson() throws {
        #expect(try party("李明", mobile: "13700000001").isSamePerson(as: try party("李明", mobile: "137-0000-0001")))
        #expect(try party(" 李明 ").isSamePerson(as: try party("李明")))
        #expect(try !party("李明", mobile: "13700000001").isSamePerson(as: try party("李明", mobile: "13700000002")))
        #expect(try !party("李明", mobile: "13700000001").isSamePerson(as: try party("李明")))
        #expect(try !party("李明", mobile: "13700000001").isSamePerson(as: try party("李敏", mobile: "13700000001")))
        // Two ID-card numbers that differ are two people, whatever else they share.
        let a = try party("李明", idCard: "11010519491231002X")
        let b = try party("李明", idCard: "110105194912310038")
        #expect(!a.isSamePerson(as: b))
    }

    @Test func theRefusalNamesThePartyWithTheMobileMasked() throws {
        var there = try party("李明", mobile: "13700000001")
        there.id = 3
        let error = Party.enteredTwice(there, dispute: "JS-2026-0001")
        #expect(error.kind == .conflict)
        #expect(error.message.contains("JS-2026-0001 already has 李明 (party #3, applicant, 137****0001)"))
        #expect(!error.message.contains("13700000001"))
    }
}
