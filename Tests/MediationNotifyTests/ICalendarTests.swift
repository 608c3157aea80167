import Foundation
import MediationCore
import Testing

@testable import MediationNotify

@Suite struct ICalendarTests {
    /// One session to render, with what its times must resolve to (written out by hand, not computed by `Zone`).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var zone: String
        var startUTC: String
        var endUTC: String
        var startLocal: String
        var endLocal: String
        var testDescription: String { name }
    }

    static let cases = [
        Case(
            name: "Shanghai, no DST", zone: "Asia/Shanghai", startUTC: "2026-12-07T01:00:00Z",
            endUTC: "2026-12-07T02:30:00Z", startLocal: "2026-12-07T09:00:00", endLocal: "2026-12-07T10:30:00"),
        Case(
            name: "Berlin in summer (CEST)", zone: "Europe/Berlin", startUTC: "2026-07-15T12:00:00Z",
            endUTC: "2026-07-15T13:30:00Z", startLocal: "2026-07-15T14:00:00", endLocal: "2026-07-15T15:30:00"),
        Case(
            name: "Berlin in winter (CET)", zone: "Europe/Berlin", startUTC: "2026-01-20T09:00:00Z",
            endUTC: "2026-01-20T11:00:00Z", startLocal: "2026-01-20T10:00:00", endLocal: "2026-01-20T12:00:00"),
        Case(
            name: "Berlin across the spring change", zone: "Europe/Berlin", startUTC: "2026-03-29T00:30:00Z",
            endUTC: "2026-03-29T01:30:00Z", startLocal: "2026-03-29T01:30:00", endLocal: "2026-03-29T03:30:00"),
    ]

    static let organizer = MailAddress("office@mediation.example.org", name: "调解办公室 Mediation Office")
    static let attendees = [
        MailAddress("wang.lawyer@example.org", name: "王律师, \"lead\"; panel"),
        MailAddress("li.hua@example.com", name: "Li Hua"),
        MailAddress("no-name@example.net"),
    ]
    static let summary = "调解会议：合同纠纷 (2026) 京调字第 42 号 — 第一次开庭"
    static let description =
        "案件: 42号\n参加人: 王律师, 李华; 请准时参加\\带上证据\r\nLink: https://meet.example.org/abc?x=1,2;3"
        + String(repeating: "很长的说明文字。", count: 20)

    static func invite(_ c: Case, method: CalendarInvite.Method = .request, sequence: Int = 0, stamp: Date)
        -> CalendarInvite
    {
        CalendarInvite(
            method: method, uid: "session-42@mediation.local", sequence: sequence, stamp: stamp,
            start: date(c.startUTC), end: date(c.endUTC), timeZone: c.zone, summary: summary, description: description,
            location: "北京市朝阳区 调解中心 3号室, Room 3", url: "https://mediation.example.org/sessions/42",
            organizer: organizer, attendees: attendees)
    }

    // MARK: - Request, update, cancel, read back by Python's icalendar

    @Test(arguments: ICalendarTests.cases)
    func requestUpdateAndCancelParseWithTheirRealTimes(_ c: Case) throws {
        let stamp0 = Self.date("2026-01-05T08:00:00Z")
        let request = Self.invite(c, stamp: stamp0)
        var update = request
        update.sequence += 1
        update.stamp = stamp0.addingTimeInterval(3600)
        update.summary += " (改期)"
        var cancel = update
        cancel.method = .cancel
        cancel.sequence += 1
        cancel.stamp = update.stamp.addingTimeInterval(60)

        var previous: ICSReport?
        for invite in [request, update, cancel] {
            let text = ICalendar.render(invite)
            try Self.checkLines(text)
            let report = try ICSPeer.check(text)

            #expect(report.version == "2.0")
            #expect(report.prodid == ICalendar.productID)
            #expect(report.calscale == "GREGORIAN")
            #expect(report.method == invite.method.rawValue)
            #expect(report.uid == "session-42@mediation.local")
            #expect(report.sequence == invite.sequence)
            #expect(report.dtstamp == Self.iso(invite.stamp))
            #expect(report.status == (invite.method == .cancel ? "CANCELLED" : "CONFIRMED"))
            #expect(report.summary == invite.summary)
            #expect(report.description == Self.description.replacingOccurrences(of: "\r\n", with: "\n"))
            #expect(report.location == invite.location)
            #expect(report.url == invite.url)
            #expect(report.errors == [])
            #expect(report.bare_newlines == 0)
            #expect(report.longest_line_octets <= 75)

            // The times, resolved through the VTIMEZONE in the file, land on the right instants.
            #expect(report.dtstart.tzid == c.zone)
            #expect(report.dtstart.local == c.startLocal)
            #expect(report.dtstart.utc == c.startUTC, "DTSTART through the file's VTIMEZONE")
            #expect(report.dtstart.utc_by_name == c.startUTC, "DTSTART through zoneinfo")
            #expect(report.dtend.tzid == c.zone)
            #expect(report.dtend.local == c.endLocal)
            #expect(report.dtend.utc == c.endUTC, "DTEND through the file's VTIMEZONE")
            #expect(report.dtend.utc_by_name == c.endUTC)
            #expect(report.vtimezones.map(\.tzid) == [c.zone])
            #expect(Set(report.tzids_used).isSubset(of: report.vtimezones.map(\.tzid)), "a TZID without VTIMEZONE")
            #expect(report.tzids_used == [c.zone, c.zone])
            for zone in report.vtimezones {
                #expect(zone.hours_checked > 365 * 24, "\(zone.tzid) checked over too short a span")
                #expect(zone.hourly_mismatches == [], "\(zone.tzid) disagrees with zoneinfo")
            }

            #expect(report.organizer.address == Self.organizer.address)
            #expect(report.organizer.cn == Self.organizer.name)
            #expect(report.attendees.map(\.address) == Self.attendees.map(\.address))
            // A double quote cannot appear in a parameter value: it becomes an apostrophe.
            #expect(report.attendees.map(\.cn) == ["王律师, 'lead'; panel", "Li Hua", nil])
            for attendee in report.attendees {
                #expect(attendee.role == "REQ-PARTICIPANT")
                #expect(attendee.partstat == "NEEDS-ACTION")
                #expect(attendee.rsvp == "TRUE")
            }

            if let previous {
                #expect(report.sequence == previous.sequence + 1)
                #expect(report.dtstamp > previous.dtstamp)
            }
            previous = report
        }
    }

    @Test func shanghaiHasOneStandardObservance() throws {
        let report = try ICSPeer.check(ICalendar.render(Self.invite(Self.cases[0], stamp: Date())))
        let zone = try #require(report.vtimezones.first)
        #expect(zone.observances.count == 1)
        let standard = try #require(zone.observances.first)
        #expect(standard.kind == "STANDARD")
        #expect(standard.offset_from == 8 * 3600)
        #expect(standard.offset_to == 8 * 3600)
        #expect(standard.tzname == "CST")
        #expect(standard.dtstart <= "2026-12-07T09:00:00")
    }

    @Test func berlinHasBothObservancesForTheEventsYear() throws {
        for c in Self.cases where c.zone == "Europe/Berlin" {
            let report = try ICSPeer.check(ICalendar.render(Self.invite(c, stamp: Date())))
            let zone = try #require(report.vtimezones.first)
            let daylight = zone.observances.filter { $0.kind == "DAYLIGHT" }
            let standard = zone.observances.filter { $0.kind == "STANDARD" }
            #expect(daylight.count == 1)
            #expect(standard.count == 1)
            #expect(daylight.first?.offset_from == 3600)
            #expect(daylight.first?.offset_to == 7200)
            #expect(daylight.first?.tzname == "CEST")
            #expect(standard.first?.offset_from == 7200)
            #expect(standard.first?.offset_to == 3600)
            #expect(standard.first?.tzname == "CET")
            // Onsets in local time on the clock before the change: 02:00 CET in spring, 03:00 CEST in autumn.
            let springs = daylight.flatMap { [$0.dtstart] + $0.rdates }
            let autumns = standard.flatMap { [$0.dtstart] + $0.rdates }
            #expect(springs == ["2025-03-30T02:00:00", "2026-03-29T02:00:00"])
            #expect(autumns == ["2025-10-26T03:00:00", "2026-10-25T03:00:00"])
        }
    }

    /// Zones of other shapes: southern hemisphere with a half-hour change, half-hour offset, a zone whose daylight
    /// time has its own name, and UTC. The peer compares each VTIMEZONE with zoneinfo hour by hour.
    @Test(arguments: [
        "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London", "America/Sao_Paulo", "UTC",
    ])
    func otherZonesMatchTheTzDatabase(_ zone: String) throws {
        let c = Case(
            name: zone, zone: zone, startUTC: "2026-06-30T23:00:00Z", endUTC: "2027-01-02T10:00:00Z", startLocal: "",
            endLocal: "")
        let text = ICalendar.render(Self.invite(c, stamp: Date()))
        try Self.checkLines(text)
        let report = try ICSPeer.check(text)
        #expect(report.dtstart.utc == c.startUTC)
        #expect(report.dtend.utc == c.endUTC)
        #expect(report.vtimezones.map(\.tzid) == [zone])
        let tz = try #require(report.vtimezones.first)
        #expect(tz.hours_checked > 2 * 365 * 24)
        #expect(tz.hourly_mismatches == [])
        #expect(tz.observances.allSatisfy { $0.tzname?.first?.isLetter == true }, "\(tz.observances)")
    }

    // MARK: - Times a local time cannot say

    @Test func theRepeatedHourAfterFallBackIsWrittenInUTC() throws {
        // 2026-10-25 in Berlin: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        let first = Case(
            name: "first 02:30", zone: "Europe/Berlin", startUTC: "2026-10-25T00:30:00Z",
            endUTC: "2026-10-25T03:00:00Z", startLocal: "2026-10-25T02:30:00", endLocal: "2026-10-25T04:00:00")
        let second = Case(
            name: "second 02:30", zone: "Europe/Berlin", startUTC: "2026-10-25T01:30:00Z",
            endUTC: "2026-10-25T03:00:00Z", startLocal: "", endLocal: "2026-10-25T04:00:00")
        let a = try ICSPeer.check(ICalendar.render(Self.invite(first, stamp: Date())))
        #expect(a.dtstart.tzid == "Europe/Berlin")
        #expect(a.dtstart.local == "2026-10-25T02:30:00")
        #expect(a.dtstart.utc == first.startUTC)
        let text = ICalendar.render(Self.invite(second, stamp: Date()))
        #expect(text.contains("\r\nDTSTART:20261025T013000Z\r\n"))
        let b = try ICSPeer.check(text)
        #expect(b.dtstart.tzid == nil)
        #expect(b.dtstart.utc == second.startUTC)
        #expect(b.dtend.utc == second.endUTC)
        #expect(b.dtend.tzid == "Europe/Berlin")
    }

    @Test func anUnknownZoneFallsBackToUTC() throws {
        let c = Case(
            name: "unknown", zone: "Mars/Olympus_Mons", startUTC: "2026-12-07T01:00:00Z",
            endUTC: "2026-12-07T02:00:00Z", startLocal: "", endLocal: "")
        let text = ICalendar.render(Self.invite(c, stamp: Date()))
        #expect(!text.contains("TZID"))
        #expect(!text.contains("VTIMEZONE"))
        let report = try ICSPeer.check(text)
        #expect(report.dtstart.utc == c.startUTC)
        #expect(report.dtend.utc == c.endUTC)
        #expect(report.tzids_used == [])
        #expect(report.vtimezones.isEmpty)
    }

    // MARK: - Lines and values

    @Test func foldingKeepsUTF8CharactersWhole() throws {
        for prefix in ["", "a", "ab"] {  // every alignment of 3-byte characters against the fold points
            let value = prefix + String(repeating: "调解", count: 80) + "🧑‍⚖️ end"
            let folded = Array(ICalendar.fold("SUMMARY:" + value).utf8)
            #expect(folded.suffix(2) == [13, 10])
            // Split the octets, not the string, so that a cut inside a character would show as invalid UTF-8.
            var physical: [[UInt8]] = [[]]
            var index = 0
            while index < folded.count - 2 {
                if folded[index] == 13, folded[index + 1] == 10 {
                    physical.append([])
                    index += 2
                } else {
                    physical[physical.count - 1].append(folded[index])
                    index += 1
                }
            }
            #expect(physical.count > 1)
            var unfolded: [UInt8] = []
            for (number, line) in physical.enumerated() {
                #expect(line.count <= 75)
                #expect(number == 0 || line.first == UInt8(ascii: " "))
                #expect(String(validating: line, as: UTF8.self) != nil, "line \(number) cuts a character")
                unfolded += number == 0 ? line : Array(line.dropFirst())
            }
            // Lines are filled: each but the last is within one character (at most 4 octets) of the limit.
            for line in physical.dropLast() { #expect(line.count > 71) }
            #expect(String(decoding: unfolded, as: UTF8.self) == "SUMMARY:" + value)
        }
        #expect(ICalendar.fold(String(repeating: "x", count: 75)) == String(repeating: "x", count: 75) + "\r\n")
        #expect(
            ICalendar.fold(String(repeating: "x", count: 76)) == String(repeating: "x", count: 75) + "\r\n x\r\n")
    }

    @Test func textValuesAreEscaped() {
        #expect(ICalendar.text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng")
        #expect(ICalendar.text("tab\there\u{7}bell") == "tab\there" + "bell")
        #expect(ICalendar.text("中文：调解") == "中文：调解")
    }

    @Test func everyLineIsShortAndEndsInCRLF() throws {
        let c = Self.cases[1]
        var invite = Self.invite(c, stamp: Date())
        invite.summary = String(repeating: "非常长的会议标题, with commas; ", count: 12)
        invite.attendees = (0..<5).map { MailAddress("person\($0)@example.org", name: "参会人员名字很长很长很长 \($0)") }
        let text = ICalendar.render(invite)
        try Self.checkLines(text)
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nPRODID:"))
        #expect(text.hasSuffix("END:VEVENT\r\nEND:VCALENDAR\r\n"))
        #expect(text.contains("\r\n "), "nothing was folded")
        let report = try ICSPeer.check(text)
        #expect(report.summary == invite.summary)
        #expect(report.attendees.map(\.cn) == invite.attendees.map(\.name))
    }

    // MARK: - Helpers

    /// Every line ends in CRLF, holds at most 75 octets, and there is no lone CR or LF.
    static func checkLines(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = Array(text.utf8)
        #expect(bytes.suffix(2) == [13, 10], sourceLocation: sourceLocation)
        var lineLength = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13 {
                try #require(
                    index + 1 < bytes.count && bytes[index + 1] == 10, "lone CR", sourceLocation: sourceLocation)
                #expect(lineLength <= 75, "a line of \(lineLength) octets", sourceLocation: sourceLocation)
                lineLength = 0
                index += 2
                continue
            }
            #expect(bytes[index] != 10, "lone LF", sourceLocation: sourceLocation)
            lineLength += 1
            index += 1
        }
    }

    static func date(_ iso: String) -> Date {
        (try? Date(iso, strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0)
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}

/// What Tests/peers/ics_check.py read from a file.
struct ICSReport: Decodable {
    struct When: Decodable {
        var tzid: String?
        var local: String?
        var utc: String?
        var utc_by_name: String
    }
    struct Address: Decodable {
        var address: String
        var cn: String?
        var role: String?
        var partstat: String?
        var rsvp: String?
    }
    struct Observance: Decodable {
        var kind: String
        var dtstart: String
        var rdates: [String]
        var rrule: String?
        var offset_from: Int
        var offset_to: Int
        var tzname: String?
    }
    struct TimeZoneReport: Decodable {
        var tzid: String
        var observances: [Observance]
        var hours_checked: Int
        var hourly_mismatches: [String]
    }

    var version: String
    var prodid: String
    var calscale: String
    var method: String
    var uid: String
    var sequence: Int
    var dtstamp: String
    var dtstart: When
    var dtend: When
    var status: String
    var summary: String
    var description: String
    var location: String?
    var url: String?
    var organizer: Address
    var attendees: [Address]
    var vtimezones: [TimeZoneReport]
    var tzids_used: [String]
    var errors: [String]
    var bare_newlines: Int
    var longest_line_octets: Int
}

/// Runs Tests/peers/ics_check.py (Python's icalendar) on rendered text, in the repository's `.venv`.
enum ICSPeer {
    struct PeerFailed: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ text: String) throws -> ICSReport {
        let python = try PyJWT.python.get()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("invite-\(UUID().uuidString).ics")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try PyJWT.run(
            python, [PyJWT.root.appendingPathComponent("Tests/peers/ics_check.py").path, file.path], environment: [:])
        guard result.status == 0 else {
            throw PeerFailed(description: "ics_check.py failed (\(result.status)): \(result.stderr)\n\(text)")
        }
        do {
            return try JSONDecoder().decode(ICSReport.self, from: Data(result.stdout.utf8))
        } catch {
            throw PeerFailed(description: "ics_check.py printed what the test cannot read: \(error)\n\(result.stdout)")
        }
    }
}
