import Foundation
import Testing

@testable import MediationCore

// MARK: - Helpers

/// An instant written in UTC, `2026-03-29T01:00Z`, read by Foundation (independent of the code under test).
private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()  // 2026-03-29T01:00:00Z
    guard text.hasSuffix("Z"), let date = formatter.date(from: text.dropLast() + ":00Z") else {
        preconditionFailure("bad test instant \(text)")
    }
    return date
}

private func span(_ start: String, _ end: String) -> Interval { Interval(start: utc(start), end: utc(end)) }

private func date(_ y: Int, _ m: Int, _ d: Int) throws -> LocalDate {
    try #require(LocalDate(year: y, month: m, day: d))
}

private func time(_ text: String) throws -> TimeOfDay { try #require(TimeOfDay(parsing: text)) }

private func weekly(_ text: String) throws -> [WeeklyWindow] { try WeeklyWindow.parseList(text, field: "weekly hours") }

/// When the tests read times typed without a date or a year: Monday 7 December 2026, 10:00 in Shanghai.
private let reading = utc("2026-12-07T02:00Z")
private let berlin = try! Zone("Europe/Berlin")
private let shanghai = try! Zone("Asia/Shanghai")

// MARK: - LocalDate

@Suite struct LocalDateTests {
    @Test func knownDayNumbers() throws {
        // Day numbers computed independently (days since 1970-01-01).
        #expect(try date(1970, 1, 1).dayNumber == 0)
        #expect(try date(1969, 12, 31).dayNumber == -1)
        #expect(try date(2000, 3, 1).dayNumber == 11017)
        #expect(try date(2024, 2, 29).dayNumber == 19782)
        #expect(try date(2026, 3, 29).dayNumber == 20541)
        #expect(try date(2026, 11, 29).dayNumber == 20786)
        #expect(try date(2026, 12, 7).dayNumber == 20794)
        #expect(LocalDate(dayNumber: 20786) == (try date(2026, 11, 29)))
        #expect(LocalDate(dayNumber: -1) == (try date(1969, 12, 31)))
    }

    @Test func knownWeekdays() throws {
        #expect(try date(2026, 11, 29).weekday == .sunday)
        #expect(try date(2026, 12, 7).weekday == .monday)
        #expect(try date(2024, 2, 29).weekday == .thursday)
        #expect(try date(1970, 1, 1).weekday == .thursday)
        #expect(try date(1969, 12, 31).weekday == .wednesday)
        #expect(try date(1900, 1, 1).weekday == .monday)
        #expect(try date(2026, 3, 30).weekday == .monday)
    }

    @Test func weekdaysAdvanceOneByOneOverYears() throws {
        let start = try date(2024, 1, 1)  // a Monday
        #expect(start.weekday == .monday)
        for offset in 0..<(366 * 3) {
            let d = start.adding(days: offset)
            #expect(d.weekday.rawValue == offset % 7 + 1, "\(d)")
            #expect(LocalDate(dayNumber: d.dayNumber) == d)
            #expect(LocalDate(parsing: d.description) == d)
        }
    }

    @Test func validAndInvalidDates() {
        #expect(LocalDate(year: 2024, month: 2, day: 29) != nil)
        #expect(LocalDate(year: 2000, month: 2, day: 29) != nil)
        #expect(LocalDate(year: 2026, month: 2, day: 29) == nil)
        #expect(LocalDate(year: 2100, month: 2, day: 29) == nil)
        #expect(LocalDate(year: 2026, month: 4, day: 31) == nil)
        #expect(LocalDate(year: 2026, month: 13, day: 1) == nil)
        #expect(LocalDate(year: 2026, month: 0, day: 1) == nil)
        #expect(LocalDate(year: 2026, month: 1, day: 0) == nil)
        #expect(LocalDate(year: 2026, month: 12, day: 31) != nil)
    }

    @Test func parsing() throws {
        let d = try #require(LocalDate(parsing: "2026-12-07"))
        #expect(d.year == 2026 && d.month == 12 && d.day == 7)
        #expect(d.description == "2026-12-07")
        #expect(LocalDate(parsing: " 2026-12-07 ") == d)
        // Dates as people type them, with the year first (issue 14, item 19: these were refused before).
        for good in ["2026-12-7", "2026/12/07", "2026/12/7", "2026.12.7", "2026年12月7日", "２０２６／１２／７"] {
            #expect(LocalDate(parsing: good) == d, "\(good)")
        }
        #expect(LocalDate(parsing: "2026-2-28") == LocalDate(year: 2026, month: 2, day: 28))
        // Without a year (that needs today), ambiguous, or not a date.
        for bad in ["2026-02-29", "26-12-07", "12/7", "12月7日", "2026-12-07x", "", "2026-12", "2026/12-07"] {
            #expect(LocalDate(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func addingDaysCrossesMonthsAndYears() throws {
        #expect(try date(2026, 12, 31).adding(days: 1) == (try date(2027, 1, 1)))
        #expect(try date(2024, 2, 28).adding(days: 1) == (try date(2024, 2, 29)))
        #expect(try date(2026, 2, 28).adding(days: 1) == (try date(2026, 3, 1)))
        #expect(try date(2026, 3, 1).adding(days: -1) == (try date(2026, 2, 28)))
        #expect(try date(2026, 1, 1) < (try date(2026, 1, 2)))
    }
}

// MARK: - TimeOfDay

@Suite struct TimeOfDayTests {
    @Test(arguments: [
        ("09:00", 540), ("9:00", 540), ("0900", 540), ("00:00", 0), ("23:59", 1439), ("24:00", 1440),
        (" 12:30 ", 750), ("12：30", 750),
    ])
    func goodTimes(text: String, minutes: Int) throws {
        let t = try #require(TimeOfDay(parsing: text))
        #expect(t.minutes == minutes)
    }

    @Test(arguments: [
        "25:00", "9:60", "24:30", "24:01", "12:5", "12", "", "ab:cd", "-1:00", "12:00:00", "9:00pm", "123:00",
    ])
    func badTimes(text: String) {
        #expect(TimeOfDay(parsing: text) == nil, "\(text) should be rejected")
    }

    @Test func descriptionAndOrdering() throws {
        #expect(try time("9:05").description == "09:05")
        #expect(try time("24:00").description == "24:00")
        #expect(TimeOfDay.endOfDay.minutes == 1440)
        #expect(TimeOfDay.midnight.minutes == 0)
        #expect(try time("08:59") < (try time("09:00")))
        #expect(TimeOfDay(minutes: 1441) == nil)
        #expect(TimeOfDay(minutes: -1) == nil)
        #expect(TimeOfDay(minutes: 1440) == .endOfDay)
    }
}

// MARK: - Zone

@Suite struct ZoneTests {
    @Test func unknownZoneIsRejected() throws {
        let error = try #require(throws: MediationError.self) { try Zone("Asia/Shangai") }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("Asia/Shangai"))
        #expect(throws: MediationError.self) { try Zone("") }
        #expect(throws: MediationError.self) { try Zone("Mars/Olympus") }
        #expect(try Zone(" Asia/Urumqi ").identifier == "Asia/Urumqi")
        #expect(try Zone("UTC").identifier == "UTC")
    }

    @Test func shanghaiHasNoDST() throws {
        #expect(Zone.shanghai.identifier == "Asia/Shanghai")
        // Every day of 2026 at 00:00Z and 12:00Z: +8 hours.
        let first = try date(2026, 1, 1)
        for offset in 0..<365 {
            let d = first.adding(days: offset)
            #expect(shanghai.offset(at: Date(timeIntervalSince1970: Double(d.dayNumber * 86400))) == 8 * 3600)
            #expect(shanghai.offset(at: Date(timeIntervalSince1970: Double(d.dayNumber * 86400 + 43200))) == 8 * 3600)
            #expect(shanghai.instant(d, try time("09:00")).timeIntervalSince1970 == Double(d.dayNumber * 86400 + 3600))
        }
        #expect(shanghai.instant(try date(2026, 3, 29), try time("09:00")) == utc("2026-03-29T01:00Z"))
        #expect(shanghai.instant(try date(2026, 10, 25), try time("09:00")) == utc("2026-10-25T01:00Z"))
        #expect(shanghai.instant(try date(2026, 12, 7), .midnight) == utc("2026-12-06T16:00Z"))
    }

    @Test func urumqiIsSixHoursAhead() throws {
        let urumqi = try Zone("Asia/Urumqi")
        #expect(urumqi.instant(try date(2026, 12, 7), try time("09:00")) == utc("2026-12-07T03:00Z"))
    }

    @Test func berlinOffsetsAroundTheChanges() {
        #expect(berlin.offset(at: utc("2026-03-29T00:59Z")) == 3600)
        #expect(berlin.offset(at: utc("2026-03-29T01:00Z")) == 7200)
        #expect(berlin.offset(at: utc("2026-10-25T00:59Z")) == 7200)
        #expect(berlin.offset(at: utc("2026-10-25T01:00Z")) == 3600)
    }

    @Test func instantInSpringGapMovesForwardByTheGap() throws {
        let day = try date(2026, 3, 29)
        #expect(berlin.instant(day, try time("01:59")) == utc("2026-03-29T00:59Z"))
        // 02:00–02:59 does not exist; it reads as 03:00–03:59 CEST.
        #expect(berlin.instant(day, try time("02:00")) == utc("2026-03-29T01:00Z"))
        #expect(berlin.instant(day, try time("02:30")) == utc("2026-03-29T01:30Z"))
        #expect(berlin.instant(day, try time("03:00")) == utc("2026-03-29T01:00Z"))
        #expect(berlin.instant(day, try time("03:30")) == utc("2026-03-29T01:30Z"))
    }

    @Test func instantInAutumnOverlapMeansFirstOccurrence() throws {
        let day = try date(2026, 10, 25)
        #expect(berlin.instant(day, try time("01:59")) == utc("2026-10-24T23:59Z"))
        #expect(berlin.instant(day, try time("02:00")) == utc("2026-10-25T00:00Z"))
        #expect(berlin.instant(day, try time("02:30")) == utc("2026-10-25T00:30Z"))
        #expect(berlin.instant(day, try time("03:00")) == utc("2026-10-25T02:00Z"))
    }

    @Test func wallClockThenInstantRoundTrips() throws {
        // Every 15 minutes of UTC over the days around both Berlin changes, in three zones.
        let urumqi = try Zone("Asia/Urumqi")
        for (zone, startText) in [
            (berlin, "2026-03-28T00:00Z"), (berlin, "2026-10-24T00:00Z"), (shanghai, "2026-03-28T00:00Z"),
            (urumqi, "2026-10-24T00:00Z"),
        ] {
            let start = utc(startText)
            for step in 0..<(3 * 96) {
                let instant = start.addingTimeInterval(Double(step * 900))
                let (d, minutes) = zone.wallClock(instant)
                let back = zone.instant(d, try #require(TimeOfDay(minutes: minutes)))
                // Only the second pass through Berlin's repeated hour maps back to its first pass.
                let secondPass =
                    zone == berlin && instant >= utc("2026-10-25T01:00Z") && instant < utc("2026-10-25T02:00Z")
                #expect(
                    back == (secondPass ? instant.addingTimeInterval(-3600) : instant), "\(zone.identifier) \(instant)")
                // The wall clock agrees with Foundation's offset.
                let expected = Int(instant.timeIntervalSince1970) + zone.offset(at: instant)
                #expect(d.dayNumber * 86400 + minutes * 60 == expected)
            }
        }
    }

    @Test func instantThenWallClockRoundTrips() throws {
        for (zone, day) in [
            (berlin, try date(2026, 3, 29)), (berlin, try date(2026, 10, 25)), (shanghai, try date(2026, 12, 7)),
        ] {
            for minutes in stride(from: 0, to: 1440, by: 10) {
                let t = try #require(TimeOfDay(minutes: minutes))
                let (d, m) = zone.wallClock(zone.instant(day, t))
                let inGap = zone == berlin && day.month == 3 && (120..<180).contains(minutes)
                #expect(d == day)
                #expect(m == (inGap ? minutes + 60 : minutes), "\(zone.identifier) \(day) \(t)")
            }
        }
    }

    @Test func format() {
        #expect(shanghai.format(utc("2026-12-07T01:30Z")) == "2026-12-07T09:30:00+08:00")
        #expect(berlin.format(utc("2026-07-01T10:00Z")) == "2026-07-01T12:00:00+02:00")
        #expect(berlin.format(utc("2026-12-31T23:15Z")) == "2027-01-01T00:15:00+01:00")
    }

    @Test func parseInstantForms() throws {
        #expect(try shanghai.parseInstant("2026-12-07", field: "from", now: reading) == utc("2026-12-06T16:00Z"))
        #expect(
            try shanghai.parseInstant("2026-12-07", field: "to", endOfDay: true, now: reading)
                == utc("2026-12-07T16:00Z"))
        #expect(try shanghai.parseInstant("2026-12-07 09:30", field: "from", now: reading) == utc("2026-12-07T01:30Z"))
        #expect(try shanghai.parseInstant("2026-12-07T09:30", field: "from", now: reading) == utc("2026-12-07T01:30Z"))
        #expect(
            try shanghai.parseInstant(" 2026-12-07 09:30 ", field: "from", now: reading) == utc("2026-12-07T01:30Z"))
        #expect(
            try shanghai.parseInstant("2026-12-07T09:30+08:00", field: "from", now: reading) == utc("2026-12-07T01:30Z")
        )
        #expect(
            try shanghai.parseInstant("2026-12-07T09:30:00+08:00", field: "from", now: reading)
                == utc("2026-12-07T01:30Z"))
        #expect(try shanghai.parseInstant("2026-12-07T09:30Z", field: "from", now: reading) == utc("2026-12-07T09:30Z"))
        #expect(
            try shanghai.parseInstant("2026-12-07T09:30:00Z", field: "from", now: reading) == utc("2026-12-07T09:30Z"))
        #expect(
            try shanghai.parseInstant("2026-12-07T09:30-05:00", field: "from", now: reading) == utc("2026-12-07T14:30Z")
        )
        // The explicit offset wins over the zone; without one the zone decides.
        #expect(
            try berlin.parseInstant("2026-12-07T09:30+08:00", field: "from", now: reading) == utc("2026-12-07T01:30Z"))
        #expect(try berlin.parseInstant("2026-12-07 09:30", field: "from", now: reading) == utc("2026-12-07T08:30Z"))
        #expect(try berlin.parseInstant("2026-07-07 09:30", field: "from", now: reading) == utc("2026-07-07T07:30Z"))
        // End of a day is the start of the next, also on a 25-hour day.
        #expect(
            try berlin.parseInstant("2026-10-25", field: "to", endOfDay: true, now: reading) == utc("2026-10-25T23:00Z")
        )
        #expect(try berlin.parseInstant("2026-10-25", field: "from", now: reading) == utc("2026-10-24T22:00Z"))
    }

    @Test(arguments: [
        "", "garbage", "tomorrow 9am", "2026-12-32", "2026-02-29", "2026/12-07", "2026-12-07 25:00", "2026-12-07T09:60",
        "2026-12-07T09:30+8", "2026-12-07T09:30:15Z", "07.12.2026 09:30", "2026-12-07T", "2026-12-07 9",
    ])
    func parseInstantRejectsGarbage(text: String) throws {
        let error = try #require(throws: MediationError.self) {
            try shanghai.parseInstant(text, field: "from", now: reading)
        }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("from"))
        // Nothing to read without a zone either: the zone's parse is the one that explains.
        #expect(Zone.explicitInstant(text) == nil)
    }

    /// A time with its own offset reads the same with no zone as with any: the booking path reads it before it
    /// knows the office's zone. Without an offset it needs one.
    @Test func explicitInstantsNeedNoZone() throws {
        for text in ["2026-12-07T09:30+08:00", "2026-12-07T09:30:00Z", "2026-12-07 09:30-05:00", " 2026-12-07T09:30Z "]
        {
            let instant = try #require(Zone.explicitInstant(text))
            #expect(instant == (try berlin.parseInstant(text, field: "start", now: reading)))
            #expect(instant == (try shanghai.parseInstant(text, field: "start", now: reading)))
        }
        #expect(Zone.explicitInstant("2026-12-07 09:30") == nil)
        #expect(Zone.explicitInstant("2026-12-07") == nil)
    }

    /// The quick trim answers as Foundation's does, whatever stands at the ends.
    @Test(arguments: [
        "", " ", "\t", "JS-2026-0042", " JS-2026-0042", "JS-2026-0042\t", "\u{3000}李明\u{3000}", "李明", "a\u{00A0}",
        "\n09:30\n", " \t 09:30 \t ", "x y", "\u{2003}2026-12-07",
    ])
    func theQuickTrimTrimsAsFoundationDoes(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
        #expect(text[...].trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
    }

    /// The byte-by-byte reading of the strict forms must say exactly what the long way says, or leave the text
    /// to it: over every mix of good and bad dates, clocks, seconds and offsets.
    @Test func theStrictReadingAgreesWithTheLongWay() {
        var handled = 0
        var total = 0
        for date in ["2026-12-07", "2028-02-29", "2026-02-29", "2026-13-01", "1899-12-31", "2026-1-07"] {
            for separator in ["T", " ", "t"] {
                for clock in ["09:30", "00:00", "23:59", "24:00", "24:01", "09:60", "9:30", "0930"] {
                    for seconds in ["", ":00", ":00.250", ":15", ":00.", ":0"] {
                        for offset in ["", "Z", "z", "+08:00", "-05:30", "-00:00", "+24:00", "+8", "+0800", "+08:60"] {
                            let text = date + separator + clock + seconds + offset
                            total += 1
                            guard let strict = Zone.readStrictTime(text) else { continue }
                            handled += 1
                            #expect(strict == Zone.readAnyTime(text), "\(text)")
                        }
                    }
                }
            }
        }
        // The strict reading must have read a good share, and left the rest.
        #expect(handled > 200 && handled < total / 2, "\(handled) of \(total)")
        #expect(Zone.readStrictTime("2026-12-07T09:30+08:00") == .instant(utc("2026-12-07T01:30Z")))
        #expect(Zone.readStrictTime(" 2026-12-07T09:30Z") == nil)
    }
}

// MARK: - Availability

@Suite struct AvailabilityTests {
    @Test func springForwardSundayHasTwoRealHours() throws {
        let free = AvailabilityResolver.free(
            weekly: try weekly("sun 01:00-04:00"), zone: berlin, extra: [], timeOff: [],
            range: span("2026-03-27T00:00Z", "2026-03-31T00:00Z"))
        #expect(free == [span("2026-03-29T00:00Z", "2026-03-29T02:00Z")])
        #expect(free.map(\.duration).reduce(0, +) == 2 * 3600)
    }

    @Test func fallBackSundayHasFourRealHours() throws {
        let free = AvailabilityResolver.free(
            weekly: try weekly("sun 01:00-04:00"), zone: berlin, extra: [], timeOff: [],
            range: span("2026-10-23T00:00Z", "2026-10-27T00:00Z"))
        #expect(free == [span("2026-10-24T23:00Z", "2026-10-25T03:00Z")])
        #expect(free.map(\.duration).reduce(0, +) == 4 * 3600)
    }

    @Test func normalSundaysHaveThreeHours() throws {
        let free = AvailabilityResolver.expand(
            try weekly("sun 01:00-04:00"), in: berlin, over: span("2026-03-16T00:00Z", "2026-03-23T00:00Z"))
        #expect(free == [span("2026-03-22T00:00Z", "2026-03-22T03:00Z")])
    }

    @Test func mondaysAroundSpringChange() throws {
        let free = AvailabilityResolver.expand(
            try weekly("mon 09:00-17:00"), in: berlin, over: span("2026-03-22T00:00Z", "2026-04-01T00:00Z"))
        #expect(
            free == [span("2026-03-23T08:00Z", "2026-03-23T16:00Z"), span("2026-03-30T07:00Z", "2026-03-30T15:00Z")])
    }

    @Test func mondaysAroundAutumnChange() throws {
        let free = AvailabilityResolver.expand(
            try weekly("mon 09:00-17:00"), in: berlin, over: span("2026-10-18T00:00Z", "2026-10-28T00:00Z"))
        #expect(
            free == [span("2026-10-19T07:00Z", "2026-10-19T15:00Z"), span("2026-10-26T08:00Z", "2026-10-26T16:00Z")])
    }

    @Test func shanghaiWeekGivesOneThreeHourInterval() throws {
        // The documented example: Monday 09:00–12:00 in Asia/Shanghai over one week.
        let free = AvailabilityResolver.expand(
            try weekly("mon 09:00-12:00"), in: shanghai, over: span("2026-12-06T16:00Z", "2026-12-13T16:00Z"))
        #expect(free == [span("2026-12-07T01:00Z", "2026-12-07T04:00Z")])
    }

    @Test func ruleEndingAtMidnight() throws {
        // 2026-11-29 is a Sunday: 19:00–24:00 local is 11:00Z–16:00Z.
        let range = span("2026-11-28T00:00Z", "2026-12-01T00:00Z")
        let alone = AvailabilityResolver.expand(try weekly("sun 19:00-24:00"), in: shanghai, over: range)
        #expect(alone == [span("2026-11-29T11:00Z", "2026-11-29T16:00Z")])
        // Followed by Monday 00:00–02:00 it merges into one span across midnight.
        let joined = AvailabilityResolver.expand(
            try weekly("sun 19:00-24:00; mon 00:00-02:00"), in: shanghai, over: range)
        #expect(joined == [span("2026-11-29T11:00Z", "2026-11-29T18:00Z")])
    }

    @Test func timeOffCutsTheMiddleOfAWindow() throws {
        let free = AvailabilityResolver.free(
            weekly: try weekly("mon 09:00-17:00"), zone: shanghai, extra: [],
            timeOff: [span("2026-12-07T03:00Z", "2026-12-07T05:00Z")],  // 11:00–13:00 local
            range: span("2026-12-06T16:00Z", "2026-12-07T16:00Z"))
        #expect(
            free == [span("2026-12-07T01:00Z", "2026-12-07T03:00Z"), span("2026-12-07T05:00Z", "2026-12-07T09:00Z")])
    }

    @Test func timeOffCoveringTheWholeWindowLeavesNothing() throws {
        let free = AvailabilityResolver.free(
            weekly: try weekly("mon 09:00-17:00"), zone: shanghai, extra: [],
            timeOff: [span("2026-12-06T16:00Z", "2026-12-07T16:00Z")],
            range: span("2026-12-06T16:00Z", "2026-12-13T16:00Z"))
        #expect(free.isEmpty)
    }

    @Test func extraAvailabilityAddsASpan() throws {
        let free = AvailabilityResolver.free(
            weekly: try weekly("mon 09:00-12:00"), zone: shanghai,
            extra: [
                span("2026-12-08T11:00Z", "2026-12-08T13:00Z"),  // Tuesday 19:00–21:00 local
                span("2026-12-07T04:00Z", "2026-12-07T05:00Z"),  // Monday 12:00–13:00, touching the weekly window
            ],
            timeOff: [], range: span("2026-12-06T16:00Z", "2026-12-13T16:00Z"))
        #expect(
            free == [span("2026-12-07T01:00Z", "2026-12-07T05:00Z"), span("2026-12-08T11:00Z", "2026-12-08T13:00Z")])
    }

    @Test func timeOffAlsoRemovesExtraAvailability() throws {
        let free = AvailabilityResolver.free(
            weekly: [], zone: shanghai, extra: [span("2026-12-08T11:00Z", "2026-12-08T13:00Z")],
            timeOff: [span("2026-12-08T12:00Z", "2026-12-08T14:00Z")],
            range: span("2026-12-06T16:00Z", "2026-12-13T16:00Z"))
        #expect(free == [span("2026-12-08T11:00Z", "2026-12-08T12:00Z")])
    }

    @Test func resultsAreClippedToTheRange() throws {
        // Range: Monday 10:30–15:00 local; the weekly window 09:00–17:00 and extra time outside are cut.
        let free = AvailabilityResolver.free(
            weekly: try weekly("mon 09:00-17:00; sun 20:00-23:00"), zone: shanghai,
            extra: [span("2026-12-07T00:00Z", "2026-12-07T01:00Z"), span("2026-12-08T01:00Z", "2026-12-08T02:00Z")],
            timeOff: [], range: span("2026-12-07T02:30Z", "2026-12-07T07:00Z"))
        #expect(free == [span("2026-12-07T02:30Z", "2026-12-07T07:00Z")])
        for interval in free {
            #expect(interval.start >= utc("2026-12-07T02:30Z") && interval.end <= utc("2026-12-07T07:00Z"))
        }
    }

    @Test func rangeStartingMidWindowKeepsOnlyTheTail() throws {
        // Sunday 20:00–23:00 local on 2026-12-06 is 12:00Z–15:00Z; the range opens at 14:00Z.
        let free = AvailabilityResolver.expand(
            try weekly("sun 20:00-23:00"), in: shanghai, over: span("2026-12-06T14:00Z", "2026-12-08T00:00Z"))
        #expect(free == [span("2026-12-06T14:00Z", "2026-12-06T15:00Z")])
    }

    @Test func emptyOrBackwardRange() throws {
        let rules = try weekly("mon-sun 00:00-24:00")
        #expect(
            AvailabilityResolver.expand(rules, in: shanghai, over: span("2026-12-07T00:00Z", "2026-12-07T00:00Z"))
                .isEmpty)
        #expect(
            AvailabilityResolver.expand(rules, in: shanghai, over: span("2026-12-08T00:00Z", "2026-12-07T00:00Z"))
                .isEmpty)
        #expect(throws: MediationError.self) {
            try AvailabilityResolver.checkRange(
                span("2026-12-08T00:00Z", "2026-12-07T00:00Z"), what: "the search window")
        }
        #expect(throws: Never.self) {
            try AvailabilityResolver.checkRange(
                span("2026-12-07T00:00Z", "2026-12-08T00:00Z"), what: "the search window")
        }
    }

    @Test func everyDayAllDayIsContinuous() throws {
        // Whole-day rules on every day merge into one span covering the range, across the DST change too.
        let range = span("2026-03-25T00:00Z", "2026-04-02T00:00Z")
        let free = AvailabilityResolver.expand(try weekly("mon-sun 00:00-24:00"), in: berlin, over: range)
        #expect(free == [range])
    }
}

// MARK: - IntervalSet against a minute-grid oracle

/// SplitMix64: small, deterministic, good enough for test inputs.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

private let gridBase = 1_800_000_000.0
private func minuteInterval(_ a: Int, _ b: Int) -> Interval {
    Interval(
        start: Date(timeIntervalSince1970: gridBase + Double(a * 60)),
        end: Date(timeIntervalSince1970: gridBase + Double(b * 60)))
}
private func minutes(_ intervals: [Interval]) -> [[Int]] {
    intervals.map {
        [Int(($0.start.timeIntervalSince1970 - gridBase) / 60), Int(($0.end.timeIntervalSince1970 - gridBase) / 60)]
    }
}
/// Minute cells covered by the intervals (empty and backward intervals cover nothing).
private func cells(_ intervals: [[Int]]) -> Set<Int> {
    var result = Set<Int>()
    for i in intervals where i[1] > i[0] { result.formUnion(i[0]..<i[1]) }
    return result
}
/// The canonical form of a set of cells: sorted, maximal, non-touching runs.
private func runs(_ cells: Set<Int>) -> [[Int]] {
    var result: [[Int]] = []
    for c in cells.sorted() {
        if let last = result.last, last[1] == c {
            result[result.count - 1][1] = c + 1
        } else {
            result.append([c, c + 1])
        }
    }
    return result
}

@Suite struct IntervalSetTests {
    private func randomList(_ rng: inout SplitMix64) -> [[Int]] {
        (0..<rng.int(0...5)).map { _ in
            let start = rng.int(0...40)
            return [start, start + rng.int(-3...12)]  // sometimes empty or backward
        }
    }

    @Test func randomInputsMatchTheOracle() {
        var rng = SplitMix64(state: 20_261_207)
        for n in 0..<200 {
            let a = randomList(&rng)
            let b = randomList(&rng)
            let ia = a.map { minuteInterval($0[0], $0[1]) }
            let ib = b.map { minuteInterval($0[0], $0[1]) }
            #expect(minutes(IntervalSet.normalize(ia)) == runs(cells(a)), "case \(n) normalize \(a)")
            #expect(
                minutes(IntervalSet.subtract(ia, ib)) == runs(cells(a).subtracting(cells(b))), "case \(n) \(a) - \(b)")
            #expect(
                minutes(IntervalSet.intersect(ia, ib)) == runs(cells(a).intersection(cells(b))), "case \(n) \(a) ∩ \(b)"
            )
        }
    }

    @Test func oracleIsNotTrivial() {
        // The oracle itself: touching runs merge, gaps stay.
        #expect(runs(cells([[0, 2], [2, 4], [6, 7], [5, 5], [9, 8]])) == [[0, 4], [6, 7]])
    }

    @Test func handPickedCases() {
        let a = [minuteInterval(10, 20), minuteInterval(0, 5), minuteInterval(5, 8), minuteInterval(30, 30)]
        #expect(minutes(IntervalSet.normalize(a)) == [[0, 8], [10, 20]])
        #expect(
            minutes(IntervalSet.subtract(a, [minuteInterval(2, 3), minuteInterval(12, 25)])) == [
                [0, 2], [3, 8], [10, 12],
            ])
        #expect(minutes(IntervalSet.intersect(a, [minuteInterval(4, 11)])) == [[4, 8], [10, 11]])
        #expect(IntervalSet.subtract([], a).isEmpty)
        #expect(minutes(IntervalSet.subtract(a, [])) == [[0, 8], [10, 20]])
        #expect(IntervalSet.intersect(a, []).isEmpty)
    }

    @Test func intervalBasics() {
        #expect(minuteInterval(5, 5).isEmpty)
        #expect(minuteInterval(6, 5).isEmpty)
        #expect(minuteInterval(0, 10).duration == 600)
        #expect(minuteInterval(0, 10).overlaps(minuteInterval(9, 11)))
        #expect(!minuteInterval(0, 10).overlaps(minuteInterval(10, 11)))
    }
}

@Test func zonesTheSystemHasButFoundationDoesNotListAreAccepted() throws {
    #expect(try Zone("Asia/Kolkata").offset(at: Date(timeIntervalSince1970: 1_800_000_000)) == 19800)
    #expect(throws: MediationError.self) { try Zone("Asia/../etc/passwd") }
    #expect(throws: MediationError.self) { try Zone("GMT+8") }
}

// MARK: - Formatting by hand

/// Times and dates are formatted without `String(format:)`; these pin the zero padding it used to do.
@Suite struct PaddingTests {
    @Test(arguments: [
        (0, 2, "00"), (5, 2, "05"), (59, 2, "59"), (123, 2, "123"), (7, 4, "0007"), (2026, 4, "2026"),
        (-5, 4, "-005"), (-12345, 4, "-12345"),
    ])
    func paddedMatchesPrintf(n: Int, width: Int, text: String) {
        #expect(padded(n, width) == text)
        #expect(padded(n, width) == String(format: "%0*d", width, n))
    }

    @Test func datesTimesAndInstantsKeepTheirShape() throws {
        #expect(try #require(LocalDate(year: 2026, month: 3, day: 7)).description == "2026-03-07")
        #expect(try #require(TimeOfDay(parsing: "7:05")).description == "07:05")
        #expect(try #require(TimeOfDay(parsing: "24:00")).description == "24:00")
        let berlin = try Zone("Europe/Berlin")
        // 2026-03-29 01:30 UTC is 03:30 summer time in Berlin.
        #expect(berlin.format(utc("2026-03-29T01:30Z")) == "2026-03-29T03:30:00+02:00")
        let kolkata = try Zone("Asia/Kolkata")
        #expect(kolkata.format(utc("2026-01-01T00:00Z")) == "2026-01-01T05:30:00+05:30")
        let honolulu = try Zone("Pacific/Honolulu")
        #expect(honolulu.format(utc("2026-01-01T00:00Z")) == "2025-12-31T14:00:00-10:00")
    }
}

// MARK: - Dates as people type them

/// Issue 14, item 19: the forms clerks type (and the notices print) are read; what is ambiguous is refused
/// with the accepted forms in the message.
@Suite struct TimeTextTests {
    private let today = LocalDate(year: 2026, month: 12, day: 7) ?? LocalDate(dayNumber: 0)

    @Test(arguments: [
        ("2026/12/09", "2026-12-09"), ("2026-12-9", "2026-12-09"), ("2026/12/9", "2026-12-09"),
        ("2026.12.9", "2026-12-09"), ("2026年12月9日", "2026-12-09"), ("12月9日", "2026-12-09"),
        ("12月9号", "2026-12-09"), ("２０２６年１２月９日", "2026-12-09"), (" 12 月 9 日 ", "2026-12-09"),
        // Without a year, the date nearest today: early January typed in December is next year's.
        ("1月3日", "2027-01-03"), ("7月1日", "2026-07-01"), ("6月9日", "2026-06-09"),
    ])
    func days(text: String, expected: String) throws {
        #expect(TimeText.read(text, today: today) == .day(try #require(LocalDate(parsing: expected))))
        #expect(try TimeText.day(text, field: "--date", today: today).description == expected)
    }

    @Test func wallClocksAndTheNoticesOwnForm() throws {
        let date = try #require(LocalDate(year: 2026, month: 12, day: 9))
        let clock = try #require(TimeOfDay(parsing: "14:30"))
        for text in [
            "2026/12/09 14:30", "2026-12-9 14:30", "12月9日 14:30", "2026年12月9日 14:30", "2026年12月9日14:30",
            "2026年12月9日 周三 14:30", "2026年12月9日 星期三 14:30", "2026年12月9日（周三）14:30", "12月9日 14：30",
            "2026-12-09T14:30", "2026-12-9  14:30:00",
        ] {
            #expect(TimeText.read(text, today: today) == .wallClock(date, clock), "\(text)")
        }
        // What a notice prints reads back to the same instant.
        let start = utc("2026-12-09T06:30Z")
        let printed = "\(date.year)年\(date.month)月\(date.day)日 \(date.weekday.chinese) 14:30"
        #expect(try shanghai.parseInstant(printed, field: "start", now: reading) == start)
        // A time alone is today in the zone that reads it.
        #expect(TimeText.read("14:30", today: today) == .wallClock(today, clock))
        #expect(try shanghai.parseInstant("14:30", field: "start", now: reading) == utc("2026-12-07T06:30Z"))
        // 20:00 UTC on the 6th is already the 7th in Shanghai, still the 6th in Berlin.
        let lateEvening = utc("2026-12-06T20:00Z")
        #expect(try shanghai.parseInstant("09:00", field: "start", now: lateEvening) == utc("2026-12-07T01:00Z"))
        #expect(try berlin.parseInstant("09:00", field: "start", now: lateEvening) == utc("2026-12-06T08:00Z"))
    }

    @Test(arguments: ["12/9", "9/12", "12-9", "9.12.2026", "12/9/2026", "26-12-09", "12/9 14:30"])
    func ambiguousNumbersAreRefusedWithTheForms(text: String) throws {
        #expect(TimeText.read(text, today: today) == .ambiguous)
        let error = try #require(throws: MediationError.self) {
            try shanghai.parseInstant(text, field: "--from", now: reading)
        }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("'\(text)' is ambiguous"), "\(error.message)")
        #expect(error.message.contains("2026/12/9 14:30") && error.message.contains("12月9日 14:30"))
        #expect(error.message.contains("14:30 (today)"))
    }

    @Test func aWeekdayThatIsNotTheDatesIsRefused() throws {
        let date = try #require(LocalDate(year: 2026, month: 12, day: 9))
        #expect(TimeText.read("2026年12月9日 周二 14:30", today: today) == .wrongWeekday(date))
        let error = try #require(throws: MediationError.self) {
            try shanghai.parseInstant("2026年12月9日 周二 14:30", field: "--at", now: reading)
        }
        #expect(error.message.contains("2026-12-09 is a 周三"))
    }

    @Test func formsThatNeedTodayNeedIt() throws {
        #expect(TimeText.read("14:30", today: nil) == .unreadable)
        #expect(TimeText.read("12月9日", today: nil) == .unreadable)
        // A bare number is not a time, nor a year a clock.
        #expect(TimeText.read("2026", today: today) == .unreadable)
        #expect(TimeText.read("1430", today: today) == .unreadable)
        // A day alone where a day is asked, a time refused there.
        let error = try #require(throws: MediationError.self) {
            try TimeText.day("2026-12-09 14:30", field: "--date", today: today)
        }
        #expect(error.message.contains("has a time of day"))
    }

    /// The booking's early reading of a start sees a day in every form, and refuses it.
    @Test func aStartWithoutItsTimeIsRefusedInEveryForm() throws {
        for text in ["2026/12/9", "12月9日", "2026年12月9日 周三"] {
            let error = try #require(throws: MediationError.self) { try Zone.startInstant(text, field: "the start") }
            #expect(error.message.contains("a day without a time"), "\(text)")
        }
        #expect(try Zone.startInstant("12月9日 14:30", field: "the start") == nil)
    }
}
