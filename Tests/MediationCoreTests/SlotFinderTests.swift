import Foundation
import Testing

@testable import MediationCore

// MARK: - Helpers

/// An instant written in UTC, `2026-11-30T01:00Z`, read by Foundation (independent of the code under test).
private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    guard text.hasSuffix("Z"), let date = formatter.date(from: text.dropLast() + ":00Z") else {
        preconditionFailure("bad test instant \(text)")
    }
    return date
}

private func span(_ start: String, _ end: String) -> Interval { Interval(start: utc(start), end: utc(end)) }

private func weekly(_ text: String) -> [WeeklyWindow] {
    (try? WeeklyWindow.parseList(text, field: "weekly hours")) ?? []
}

private func expert(
    _ id: Int64, _ role: ExpertRole = .lawyer, specialties: [String] = [], languages: [String] = [],
    zone: String = "Asia/Shanghai", hours: String = "mon-sun 00:00-24:00", sessions: [Interval] = [],
    timeOff: [Interval] = [], perDay: Int = 3, perWeek: Int = 10, active: Bool = true, conflicted: Bool = false
) -> SlotCandidate {
    SlotCandidate(
        id: id, name: "E\(id)", role: role, specialties: specialties, languages: languages, active: active,
        conflicted: conflicted, timeZone: zone, weeklyHours: weekly(hours), timeOff: timeOff, sessions: sessions,
        maxSessionsPerDay: perDay, maxSessionsPerWeek: perWeek)
}

/// Monday 30 Nov – Saturday 5 Dec 2026, office Asia/Shanghai (UTC+8) 09:00–12:00 and 14:00–18:00 on weekdays,
/// that is 01:00–04:00Z and 06:00–10:00Z; one-hour sessions, one lawyer. Every start is an option (`everyStart`),
/// so that these tests see the finder's grid; the spreading has tests of its own below.
private func search(
    _ candidates: [SlotCandidate], requirements: [PanelRequirement] = [PanelRequirement(role: .lawyer)],
    duration: Int = 60, everyStart: Bool = true
) -> SlotSearch {
    var s = SlotSearch(
        requirements: requirements, durationMinutes: duration,
        window: span("2026-11-30T00:00Z", "2026-12-05T00:00Z"), now: utc("2026-11-29T00:00Z"),
        officeTimeZone: "Asia/Shanghai", officeHours: weekly("mon-fri 09:00-12:00 14:00-18:00"),
        candidates: candidates)
    s.everyStart = everyStart
    return s
}

private func starts(_ answer: SlotAnswer) -> [Date] { answer.options.map(\.start) }

private func expectInvalid(_ s: SlotSearch, containing text: String) {
    do {
        _ = try SlotFinder.find(s)
        Issue.record("expected invalid input containing '\(text)'")
    } catch let e as MediationError {
        #expect(e.kind == .invalidInput)
        #expect(e.message.contains(text), "message was: \(e.message)")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

// MARK: - Basic shape

@Test func earliestStartsOnTheStepGridWithAnExplanation() throws {
    let answer = try SlotFinder.find(search([expert(1)]))
    #expect(
        starts(answer) == ["01:00", "01:15", "01:30", "01:45", "02:00"].map { utc("2026-11-30T\($0)Z") })
    #expect(answer.reasons.isEmpty)
    #expect(answer.nearest == nil)
    #expect(answer.options[0].end == utc("2026-11-30T02:00Z"))
    #expect(answer.options[0].panel == [PanelSeat(requirementIndex: 0, expertId: 1)])
    #expect(answer.options[0].explanation == "Mon 30 Nov 09:00–10:00 Asia/Shanghai: E1 (lawyer; 0 sessions in 30 days)")
}

@Test func maxOptionsAndStepAreHonoured() throws {
    var s = search([expert(1)])
    s.maxOptions = 2
    s.stepMinutes = 60
    let answer = try SlotFinder.find(s)
    #expect(starts(answer) == [utc("2026-11-30T01:00Z"), utc("2026-11-30T02:00Z")])
}

// MARK: - Spreading

@Test func optionsAreSpreadOnePerHalfDayForTheSamePanel() throws {
    // One lawyer free all week: by default one option each morning and afternoon (09:00 and 14:00 Shanghai),
    // not five starts 15 minutes apart on Monday morning.
    let answer = try SlotFinder.find(search([expert(1)], everyStart: false))
    #expect(
        starts(answer) == [
            utc("2026-11-30T01:00Z"), utc("2026-11-30T06:00Z"), utc("2026-12-01T01:00Z"), utc("2026-12-01T06:00Z"),
            utc("2026-12-02T01:00Z"),
        ])
    // Asked for every start, the grid comes back.
    #expect(starts(try SlotFinder.find(search([expert(1)], everyStart: true))).count == 5)
    #expect(try SlotFinder.find(search([expert(1)], everyStart: true)).options[1].start == utc("2026-11-30T01:15Z"))
}

@Test func aDifferentPanelOnTheSameHalfDayIsStillAnOption() throws {
    // Lawyer 1 is fairest, but only free 09:00–10:00 on Monday; lawyer 2 sits after that. Both panels are offered
    // on Monday morning, each once.
    let pool = [
        expert(1, hours: "mon 09:00-10:00"), expert(2, sessions: [span("2026-11-20T01:00Z", "2026-11-20T02:00Z")]),
    ]
    var s = search(pool, everyStart: false)
    s.maxOptions = 3
    let answer = try SlotFinder.find(s)
    #expect(starts(answer) == [utc("2026-11-30T01:00Z"), utc("2026-11-30T01:15Z"), utc("2026-11-30T06:00Z")])
    #expect(answer.options.map { $0.panel.map(\.expertId) } == [[1], [2], [2]])
}

@Test func theHalfDayIsTheOfficesOwnNoonNotUTC() throws {
    // An office in Berlin, open 08:00–18:00: 11:00 and 12:00 Berlin (10:00Z and 11:00Z in winter) are different
    // half-days; 09:00 and 11:45 are the same.
    var s = search([expert(1, zone: "Europe/Berlin")], everyStart: false)
    s.officeTimeZone = "Europe/Berlin"
    s.officeHours = weekly("mon-fri 11:00-18:00")
    s.maxOptions = 2
    #expect(starts(try SlotFinder.find(s)) == [utc("2026-11-30T10:00Z"), utc("2026-11-30T11:00Z")])
}

// MARK: - Bad input

@Test func badSearchesAreRefused() {
    var s = search([expert(1)])
    s.window = span("2026-12-05T00:00Z", "2026-11-30T00:00Z")
    expectInvalid(s, containing: "ends before it starts")
    s = search([expert(1)])
    s.now = utc("2026-12-06T00:00Z")
    expectInvalid(s, containing: "the window is in the past")
    s = search([expert(1)])
    s.now = utc("2026-12-04T23:30Z")
    s.minimumNoticeMinutes = 60
    expectInvalid(s, containing: "the window is in the past")
    expectInvalid(search([expert(1)], duration: 0), containing: "between 1 and 480")
    expectInvalid(search([expert(1)], duration: 481), containing: "between 1 and 480")
    s = search([expert(1)])
    s.officeTimeZone = "Asia/Shangai"
    expectInvalid(s, containing: "Asia/Shangai")
    expectInvalid(search([expert(1, zone: "Mars/Olympus")]), containing: "E1")
    expectInvalid(search([expert(1)], requirements: []), containing: "no panel requirement")
    expectInvalid(
        search([expert(1)], requirements: [PanelRequirement(role: .lawyer, count: 0)]), containing: "0 experts")
}

@Test func badPinsAreRefusedByName() {
    var s = search([expert(1), expert(2, active: false), expert(3, conflicted: true), expert(4), expert(5)])
    s.pinned = [9]
    expectInvalid(s, containing: "#9")
    s.pinned = [2]
    expectInvalid(s, containing: "E2 (#2) is inactive")
    s.pinned = [3]
    expectInvalid(s, containing: "E3 (#3) has a conflict of interest")
    s.pinned = [4]
    s.excluded = [4]
    expectInvalid(s, containing: "E4 (#4) is also excluded")
    s.excluded = []
    s.pinned = [4, 5]
    expectInvalid(s, containing: "cannot all sit")
    s.pinned = [4]
    s.candidates.append(expert(6, .retiree))
    s.pinned = [6]
    expectInvalid(s, containing: "E6 (retiree)")
}

// MARK: - Time rules

@Test func minimumNoticeMovesTheFirstStart() throws {
    var s = search([expert(1)])
    s.now = utc("2026-11-30T00:30Z")
    s.minimumNoticeMinutes = 120
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-11-30T02:30Z"))
    s.now = utc("2026-11-30T00:31Z")
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-11-30T02:45Z"))
}

@Test func holidaysHaveNoSessions() throws {
    var s = search([expert(1)])
    s.holidays = [LocalDate(year: 2026, month: 11, day: 30)].compactMap { $0 }
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-12-01T01:00Z"))
}

@Test func aSessionStaysInsideOneOfficeWindow() throws {
    // Four hours do not fit 09:00–12:00 and may not run across lunch: the first is 14:00 Shanghai.
    let answer = try SlotFinder.find(search([expert(1)], duration: 240))
    #expect(
        starts(answer) == [
            utc("2026-11-30T06:00Z"), utc("2026-12-01T06:00Z"), utc("2026-12-02T06:00Z"),
            utc("2026-12-03T06:00Z"), utc("2026-12-04T06:00Z"),
        ])
}

@Test func everyPartyMustBeFree() throws {
    var s = search([expert(1)])
    s.parties = [[span("2026-12-01T06:00Z", "2026-12-01T08:00Z")], [span("2026-12-01T07:00Z", "2026-12-01T09:00Z")]]
    #expect(starts(try SlotFinder.find(s)) == [utc("2026-12-01T07:00Z")])
}

@Test func theBufferKeepsSessionsApart() throws {
    let busy = expert(1, sessions: [span("2026-11-30T01:00Z", "2026-11-30T02:00Z")])
    var s = search([busy])
    s.bufferMinutes = 30
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-11-30T02:30Z"))
    s.bufferMinutes = 0
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-11-30T02:00Z"))
}

@Test func timeOffAndWeeklyHoursInTheExpertsZone() throws {
    // Berlin 08:00–10:00 is 07:00–09:00Z in winter; the office is open around the clock.
    var s = search([
        expert(
            1, zone: "Europe/Berlin", hours: "mon-fri 08:00-10:00",
            timeOff: [span("2026-11-30T00:00Z", "2026-12-01T00:00Z")])
    ])
    s.officeHours = weekly("mon-sun 00:00-24:00")
    #expect(try SlotFinder.find(s).options.first?.start == utc("2026-12-01T07:00Z"))
}

@Test func daylightSavingInBerlinWhileTheOfficeIsInShanghai() throws {
    // Berlin leaves summer time on Sunday 25 Oct 2026: 08:00 is 06:00Z on Friday 23 and 07:00Z on Monday 26.
    let berliner = expert(1, zone: "Europe/Berlin", hours: "mon-fri 08:00-10:00")
    var s = search([berliner])
    s.officeHours = weekly("mon-sun 00:00-24:00")
    s.now = utc("2026-10-01T00:00Z")
    s.window = span("2026-10-23T00:00Z", "2026-10-28T00:00Z")
    s.maxOptions = 10
    s.stepMinutes = 60
    #expect(
        starts(try SlotFinder.find(s)) == [
            utc("2026-10-23T06:00Z"), utc("2026-10-23T07:00Z"), utc("2026-10-26T07:00Z"), utc("2026-10-26T08:00Z"),
            utc("2026-10-27T07:00Z"), utc("2026-10-27T08:00Z"),
        ])
    let answer = try SlotFinder.find(s)
    #expect(answer.options[2].explanation.hasPrefix("Mon 26 Oct 15:00–16:00 Asia/Shanghai"))
}

@Test func dayCapIsReadInTheExpertsZone() throws {
    // 20:00Z on Sunday 29 Nov is Monday 04:00 in Shanghai but still Sunday 21:00 in Berlin.
    let berliner = expert(
        1, zone: "Europe/Berlin", sessions: [span("2026-11-29T20:00Z", "2026-11-29T21:00Z")],
        perDay: 1, perWeek: 1)
    #expect(try SlotFinder.find(search([berliner])).options.first?.start == utc("2026-11-30T01:00Z"))
    let shanghainese = expert(1, sessions: [span("2026-11-29T20:00Z", "2026-11-29T21:00Z")], perDay: 1)
    #expect(try SlotFinder.find(search([shanghainese])).options.first?.start == utc("2026-12-01T01:00Z"))
}

@Test func weekCapBlocksTheWholeWeekAndTheNearestOptionIsOffered() throws {
    // Monday 11:00 Berlin is in the same ISO week as every office hour of the window.
    let berliner = expert(
        1, zone: "Europe/Berlin", sessions: [span("2026-11-30T10:00Z", "2026-11-30T11:00Z")],
        perDay: 3, perWeek: 1)
    let answer = try SlotFinder.find(search([berliner]))
    #expect(answer.options.isEmpty)
    #expect(answer.reasons == ["no lawyer is free in the window: 1 is at their weekly cap"])
    #expect(answer.reasonsChinese == ["这段时间没有有空的律师：1 位已达每周场次上限"])
    #expect(answer.nearest?.start == utc("2026-12-07T01:00Z"))
    #expect(answer.nearest?.panel == [PanelSeat(requirementIndex: 0, expertId: 1)])
}

// MARK: - Who may sit

@Test func conflictsExclusionsAndInactiveExpertsAreNeverProposed() throws {
    let pool = [expert(1, conflicted: true), expert(2, active: false), expert(3), expert(4)]
    var s = search(pool)
    #expect(try SlotFinder.find(s).options.allSatisfy { $0.panel.map(\.expertId) == [3] })
    s.excluded = [3]
    #expect(try SlotFinder.find(s).options.allSatisfy { $0.panel.map(\.expertId) == [4] })
}

@Test func pinnedExpertsSit() throws {
    var s = search(
        [expert(1), expert(2), expert(3, .retiree)],
        requirements: [PanelRequirement(role: .lawyer), PanelRequirement(role: .retiree)])
    s.pinned = [2]
    let answer = try SlotFinder.find(s)
    #expect(
        answer.options.first?.panel == [
            PanelSeat(requirementIndex: 0, expertId: 2),
            PanelSeat(requirementIndex: 1, expertId: 3),
        ])
    // A pinned expert's own hours decide the start.
    s.candidates[1] = expert(2, hours: "tue 10:00-11:00")
    #expect(starts(try SlotFinder.find(s)) == [utc("2026-12-01T02:00Z")])
}

@Test func specialtiesAndLanguagesAreComparedNormalised() throws {
    let pool = [
        expert(1, specialties: ["family"], languages: ["cantonese"]),
        expert(2, specialties: ["Property"], languages: ["mandarin"]),
        expert(3, specialties: [" property "], languages: ["Cantonese"]),
    ]
    let s = search(pool, requirements: [PanelRequirement(role: .lawyer, specialty: "PROPERTY ", language: "cantonese")])
    let answer = try SlotFinder.find(s)
    #expect(answer.options.first?.panel.map(\.expertId) == [3])
    #expect(
        answer.options.first?.explanation.contains("E3 (lawyer, property, cantonese; 0 sessions in 30 days)") == true)
}

@Test func twoSeatsTakeTwoDistinctExperts() throws {
    let two = [PanelRequirement(role: .lawyer, count: 2)]
    #expect(try SlotFinder.find(search([expert(1)], requirements: two)).options.isEmpty)
    let answer = try SlotFinder.find(search([expert(1), expert(2)], requirements: two))
    #expect(Set(answer.options.first?.panel.map(\.expertId) ?? []) == [1, 2])
}

// MARK: - Ranking

@Test func fairnessThenPreferredSpecialtyThenId() throws {
    let past = span("2026-11-20T01:00Z", "2026-11-20T02:00Z")
    let past2 = span("2026-11-21T01:00Z", "2026-11-21T02:00Z")
    let laterThisWeek = span("2026-12-04T09:00Z", "2026-12-04T10:00Z")
    var pool = [
        expert(1, sessions: [past, past2]),  // two in 30 days
        expert(2, sessions: [past, laterThisWeek]),  // one in 30 days, one in the slot's week
        expert(3, sessions: [past2]),  // one in 30 days
        expert(4, sessions: [past]),  // one in 30 days
    ]
    var s = search(pool)
    #expect(try SlotFinder.find(s).options.first?.panel.map(\.expertId) == [3])
    #expect(try SlotFinder.find(s).options.first?.explanation.contains("E3 (lawyer; 1 session in 30 days)") == true)
    pool[3].specialties = ["property"]
    s = search(pool)
    s.preferredSpecialties = ["Property"]
    #expect(try SlotFinder.find(s).options.first?.panel.map(\.expertId) == [4])
}

@Test func thePanelIsChosenAsAWholeNotSeatBySeat() throws {
    // Seat by seat, the first seat would take the fresh property lawyer 2 and leave seat two to lawyer 1, who sat
    // twice this month. As a whole, 3 (once) and 2 (never) is fairer.
    let old = span("2026-11-20T01:00Z", "2026-11-20T02:00Z")
    let older = span("2026-11-21T01:00Z", "2026-11-21T02:00Z")
    let pool = [
        expert(1, specialties: ["property"], sessions: [old, older]),
        expert(2, specialties: ["property"]),
        expert(3, sessions: [old]),
        expert(4, .legalOfficer),
    ]
    let reqs = [
        PanelRequirement(role: .lawyer), PanelRequirement(role: .lawyer, specialty: "property"),
        PanelRequirement(role: .legalOfficer),
    ]
    let answer = try SlotFinder.find(search(pool, requirements: reqs))
    #expect(
        answer.options.first?.panel == [
            PanelSeat(requirementIndex: 0, expertId: 3),
            PanelSeat(requirementIndex: 1, expertId: 2), PanelSeat(requirementIndex: 2, expertId: 4),
        ])
}

// MARK: - When nothing fits

@Test func reasonsCountCandidatesByWhatStopsThem() throws {
    let weekCap = span("2026-11-30T20:00Z", "2026-11-30T21:00Z")  // Tuesday 04:00 Shanghai, outside office hours
    let leave = span("2026-11-25T00:00Z", "2026-12-10T00:00Z")
    let pool = [
        expert(1, specialties: ["property"], sessions: [weekCap], perWeek: 1),
        expert(2, specialties: ["property"], sessions: [weekCap], perWeek: 1),
        expert(3, specialties: ["property"], sessions: [weekCap], perWeek: 1),
        expert(4, specialties: ["property"], timeOff: [leave]),
        expert(5, specialties: ["property"], timeOff: [leave]),
        expert(6, specialties: ["property"], conflicted: true),
        expert(7, specialties: ["family"]),
        expert(8, .retiree),
    ]
    let s = search(
        pool,
        requirements: [
            PanelRequirement(role: .lawyer, specialty: "property"),
            PanelRequirement(role: .retiree),
        ])
    let answer = try SlotFinder.find(s)
    #expect(answer.options.isEmpty)
    #expect(
        answer.reasons == [
            "no lawyer with 'property' is free in the window: 3 are at their weekly cap, 2 are on leave, "
                + "1 has a conflict of interest"
        ])
    // The next week: experts 1–3 are under their cap again.
    #expect(answer.nearest?.start == utc("2026-12-07T01:00Z"))
    #expect(answer.nearest?.panel.map(\.expertId) == [1, 8])
}

@Test func reasonsForPartiesOfficeHoursAndMissingRoles() throws {
    var s = search([expert(1)])
    s.parties = [[span("2026-11-30T01:00Z", "2026-11-30T02:00Z")], [span("2026-12-01T01:00Z", "2026-12-01T02:00Z")]]
    s.nearestSearchDays = 0
    var answer = try SlotFinder.find(s)
    #expect(answer.options.isEmpty && answer.nearest == nil)
    #expect(
        answer.reasons.contains(
            "the parties are never all free inside office hours in the window; ask them for more times or widen the window"
        ))
    s.parties = [[span("2026-11-30T01:00Z", "2026-11-30T02:00Z")], [span("2026-11-30T12:00Z", "2026-11-30T13:00Z")]]
    answer = try SlotFinder.find(s)
    #expect(
        answer.reasons.first == "party 2 is never free for a whole 60-minute session inside office hours in the window")
    #expect(answer.reasonsChinese.first == "第 2 位当事人在这段时间的办公时间内没有连续 60 分钟的空闲")
    #expect(answer.reasonsChinese.count == answer.reasons.count)
    // Named as the store names them: the Chinese says 当事人 and the number, with no English word.
    s.partyNames = ["甲 (party #7)", "乙 (party #8)"]
    answer = try SlotFinder.find(s)
    #expect(
        answer.reasons.first
            == "乙 (party #8) is never free for a whole 60-minute session inside office hours in the window")
    #expect(answer.reasonsChinese.first == "当事人乙（#8）在这段时间的办公时间内没有连续 60 分钟的空闲")
    #expect(answer.reasonsChinese.allSatisfy { !$0.contains(where: { $0.isASCII && $0.isLetter }) })

    s = search([expert(1)])
    s.officeHours = weekly("sat 09:00-12:00")
    s.window = span("2026-11-30T00:00Z", "2026-12-05T00:00Z")
    answer = try SlotFinder.find(s)
    #expect(answer.reasons.first?.hasPrefix("the window holds no office hours long enough") == true)
    #expect(answer.nearest?.start == utc("2026-12-05T01:00Z"))

    answer = try SlotFinder.find(search([expert(1)], requirements: [PanelRequirement(role: .retiree)]))
    #expect(answer.reasons == ["the pool has no retiree; add one or relax the requirement"])
    // The same reason in Chinese, for a Chinese page; the finder's JSON keeps only the English.
    #expect(answer.reasonsChinese == ["专家库里没有退休干部；请添加，或放宽要求"])
    let json = String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
    #expect(!json.contains("reasonsChinese") && !json.contains("专家库"), "\(json)")
}

@Test func reasonsWhenEverySeatIsFreeButNeverTogether() throws {
    let pool = [expert(1, hours: "mon 09:00-11:00"), expert(2, .retiree, hours: "tue 09:00-11:00")]
    let answer = try SlotFinder.find(
        search(
            pool,
            requirements: [
                PanelRequirement(role: .lawyer),
                PanelRequirement(role: .retiree),
            ]))
    #expect(answer.options.isEmpty)
    #expect(answer.reasons.first?.hasPrefix("every seat can be filled on its own") == true)
}
