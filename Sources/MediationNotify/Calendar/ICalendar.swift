import Foundation
import MediationCore
import Synchronization

/// One session as a calendar invitation (an iTIP message, RFC 5546), attached to the mail that announces,
/// moves or cancels it.
///
/// Calendar clients match messages by `uid` and keep the one with the highest `sequence` (then the newest
/// `stamp`): every change to a session must render with the same `uid`, a larger `sequence` and a newer `stamp`.
public struct CalendarInvite: Sendable, Equatable {
    /// `REQUEST` invites or updates; `CANCEL` withdraws the session.
    public enum Method: String, Sendable {
        case request = "REQUEST"
        case cancel = "CANCEL"
    }

    /// METHOD, and the event's STATUS: CONFIRMED for a request, CANCELLED for a cancellation.
    public var method: Method
    /// Stable for the life of a session, for example `session-42@mediation.local`.
    public var uid: String
    /// Grows on every change (RFC 5545 §3.8.7.4).
    public var sequence: Int
    /// DTSTAMP, written in UTC; newer on every change.
    public var stamp: Date
    /// DTSTART and DTEND, written as local times in `timeZone`.
    public var start: Date
    public var end: Date
    /// The IANA zone in which DTSTART and DTEND are written, with a VTIMEZONE that defines it.
    public var timeZone: String
    /// SUMMARY, the title calendars show; any text, Chinese included.
    public var summary: String
    /// DESCRIPTION, the event's notes; line breaks are kept.
    public var description: String
    /// LOCATION, omitted when nil.
    public var location: String?
    /// URL, for example the session's video room; omitted when nil.
    public var url: String?
    /// ORGANIZER: the address replies go to.
    public var organizer: MailAddress
    /// Each is invited as a required participant whose reply is requested.
    public var attendees: [MailAddress]

    public init(
        method: Method = .request, uid: String, sequence: Int, stamp: Date, start: Date, end: Date,
        timeZone: String, summary: String, description: String, location: String? = nil, url: String? = nil,
        organizer: MailAddress, attendees: [MailAddress]
    ) {
        self.method = method
        self.uid = uid
        self.sequence = sequence
        self.stamp = stamp
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.summary = summary
        self.description = description
        self.location = location
        self.url = url
        self.organizer = organizer
        self.attendees = attendees
    }
}

/// Renders invitations as iCalendar text (RFC 5545): CRLF line endings, lines folded at 75 octets on UTF-8
/// character boundaries, TEXT values escaped.
///
/// DTSTART and DTEND are local times with `TZID=` the invite's zone, defined by a VTIMEZONE taken from the
/// system's tz data: every transition from the start of the year before the event (or, if daylight time is then in
/// force, from its onset) to the end of the event's year, one STANDARD or DAYLIGHT component per kind of transition
/// with an RDATE for each further one; a zone without transitions in that span gets a single STANDARD component.
/// Two exceptions are written in UTC: a zone the system does not know (then no VTIMEZONE is sent), and a local time
/// that occurs twice (when clocks fall back) and means its second occurrence, which a local time with TZID cannot
/// express (RFC 5545 §3.3.5).
///
/// For example:
/// ```swift
/// let text = ICalendar.render(invite)  // "BEGIN:VCALENDAR\r\nPRODID:…"
/// ```
public enum ICalendar {
    /// The product identifier written as PRODID.
    public static let productID = "-//Mediation Coordinator//Mediation Notify//EN"
    /// The longest line, in octets without the CRLF (RFC 5545 §3.1).
    public static let maximumLineOctets = 75

    /// The whole VCALENDAR: one VTIMEZONE (unless the zone is unknown) and one VEVENT, ready to attach as
    /// `text/calendar; method=REQUEST` (or `CANCEL`) in UTF-8.
    public static func render(_ invite: CalendarInvite) -> String {
        let zone = try? Zone(invite.timeZone)
        var lines = [
            "BEGIN:VCALENDAR",
            "PRODID:" + productID,
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:" + invite.method.rawValue,
        ]
        if let zone {
            lines += TimeZoneDefinition.lines(
                for: zone, from: min(invite.start, invite.end), to: max(invite.start, invite.end))
        }
        lines += event(invite, in: zone, invited: true)
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined()
    }

    /// A subscribed calendar (`webcal://`, RFC 5545 with METHOD:PUBLISH): one VTIMEZONE per zone, spanning every
    /// event written in it, and one VEVENT per event (a cancelled one with STATUS:CANCELLED, so calendars drop it);
    /// no attendee is asked to reply. `name` is what calendar clients call it (X-WR-CALNAME).
    public static func feed(_ events: [CalendarInvite], name: String) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "PRODID:" + productID, "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:" + text(name), "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H",
        ]
        var zones: [String: Zone] = [:]
        for (id, group) in Dictionary(grouping: events, by: \.timeZone).sorted(by: { $0.key < $1.key }) {
            guard let zone = try? Zone(id) else { continue }
            zones[id] = zone
            let from = group.map { min($0.start, $0.end) }.min() ?? Date()
            let to = group.map { max($0.start, $0.end) }.max() ?? from
            lines += TimeZoneDefinition.lines(for: zone, from: from, to: to)
        }
        for e in events { lines += event(e, in: zones[e.timeZone], invited: false) }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined()
    }

    /// One VEVENT: with its ORGANIZER and ATTENDEEs asked to reply when `invited` (an invitation), without them in
    /// a published feed.
    static func event(_ invite: CalendarInvite, in zone: Zone?, invited: Bool) -> [String] {
        var lines = [
            "BEGIN:VEVENT",
            "UID:" + text(invite.uid),
            "SEQUENCE:\(max(0, invite.sequence))",
            "DTSTAMP:" + utcStamp(invite.stamp),
            "DTSTART" + dateTime(invite.start, in: zone),
            "DTEND" + dateTime(invite.end, in: zone),
            "SUMMARY:" + text(invite.summary),
            "DESCRIPTION:" + text(invite.description),
        ]
        if let location = invite.location { lines.append("LOCATION:" + text(location)) }
        if let url = invite.url { lines.append("URL:" + uri(url)) }
        if invited {
            lines.append("ORGANIZER" + commonName(invite.organizer) + ":" + mailto(invite.organizer))
            for attendee in invite.attendees {
                lines.append(
                    "ATTENDEE" + commonName(attendee) + ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
                        + mailto(attendee))
            }
        }
        lines += ["STATUS:" + (invite.method == .cancel ? "CANCELLED" : "CONFIRMED"), "TRANSP:OPAQUE", "END:VEVENT"]
        return lines
    }

    // MARK: - Values

    /// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped; other control
    /// characters, which the grammar forbids, dropped.
    static func text(_ value: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(value.unicodeScalars.count)
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": result += "\\\\"
            case ";": result += "\\;"
            case ",": result += "\\,"
            case "\r": result += "\\n"
            case "\n": if !previousWasCR { result += "\\n" }
            case "\t": result.unicodeScalars.append(scalar)
            default: if !isControl(scalar) { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    /// A URI value: written as given, less control characters and spaces, which cannot be part of a URI.
    static func uri(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter { !isControl($0) && $0 != " " }))
    }

    /// `;CN="…"` when the address has a name. A parameter value cannot hold a double quote or a control character
    /// (RFC 5545 §3.1): quotes become apostrophes and line breaks spaces; quoting keeps `:`, `;` and `,` literal.
    static func commonName(_ address: MailAddress) -> String {
        guard let name = address.name, !name.isEmpty else { return "" }
        let cleaned = String.UnicodeScalarView(
            name.unicodeScalars.map { scalar -> Unicode.Scalar in
                if scalar == "\"" { return "'" }
                return isControl(scalar) || scalar == "\t" ? " " : scalar
            })
        return ";CN=\"\(String(cleaned))\""
    }

    static func mailto(_ address: MailAddress) -> String { "mailto:" + uri(address.address) }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }

    /// `20261207T010000Z`: the instant in UTC, to the second.
    static func utcStamp(_ date: Date) -> String { basicDateTime(wallSeconds: wholeSeconds(date)) + "Z" }

    /// `;TZID=Asia/Shanghai:20261207T090000`, or `:20261207T010000Z` when a local time cannot name the instant.
    static func dateTime(_ date: Date, in zone: Zone?) -> String {
        guard let zone else { return ":" + utcStamp(date) }
        let seconds = wholeSeconds(date)
        let minute = Date(timeIntervalSince1970: Double(seconds - floorMod(seconds, 60)))
        let wall = zone.wallClock(minute)
        // A local time means its first occurrence: one in the repeated hour after a fall-back must be written in UTC.
        guard let time = TimeOfDay(minutes: wall.minutes), zone.instant(wall.date, time) == minute else {
            return ":" + utcStamp(date)
        }
        return ";TZID=\(zone.identifier):" + basicDateTime(wallSeconds: seconds + zone.offset(at: date))
    }

    /// `yyyyMMddTHHmmss` for a count of seconds since 1970-01-01T00:00 on some wall clock.
    static func basicDateTime(wallSeconds: Int) -> String {
        let days = floorDiv(wallSeconds, 86_400)
        let second = wallSeconds - days * 86_400
        let date = LocalDate(dayNumber: days)
        return String(
            format: "%04d%02d%02dT%02d%02d%02d", date.year, date.month, date.day, second / 3600, second / 60 % 60,
            second % 60)
    }

    static func wholeSeconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) }

    static func floorDiv(_ a: Int, _ b: Int) -> Int { (a - floorMod(a, b)) / b }
    static func floorMod(_ a: Int, _ b: Int) -> Int { ((a % b) + b) % b }

    // MARK: - Lines

    /// One content line with its CRLF, folded so that no line exceeds 75 octets; a continuation line starts with a
    /// space, which counts towards its 75. Folds fall between Unicode scalars, never inside a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        var result = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = UTF8.width(scalar)
            if octets + size > maximumLineOctets {
                result += "\r\n "
                octets = 1
            }
            result.unicodeScalars.append(scalar)
            octets += size
        }
        return result + "\r\n"
    }
}

/// The VTIMEZONE for a zone around an event, read from the system's tz data through Foundation.
enum TimeZoneDefinition {
    /// One change of offset: at `instant` the clocks go from `from` to `to` (seconds east of UTC).
    struct Transition {
        var instant: Date
        var from: Int
        var to: Int
        var daylight: Bool
        var name: String
    }

    /// The VTIMEZONE lines (unfolded) covering the year before `from` through the end of the year of `to`, from a
    /// time in standard time.
    static func lines(for zone: Zone, from: Date, to: Date) -> [String] {
        let (windowStart, windowEnd) = window(zone: zone, from: from, to: to)
        // The same zone over the same window gives the same lines: every invite of a week shares them.
        let key = "\(zone.identifier)|\(windowStart.timeIntervalSince1970)|\(windowEnd.timeIntervalSince1970)"
        if let known = built.withLock({ $0[key] }) { return known }
        let lines = build(zone: zone, windowStart: windowStart, windowEnd: windowEnd)
        built.withLock { cache in
            if cache.count > 256 { cache.removeAll() }
            cache[key] = lines
        }
        return lines
    }

    private static let built = Mutex<[String: [String]]>([:])

    private static func build(zone: Zone, windowStart: Date, windowEnd: Date) -> [String] {
        let names = TZifAbbreviations(data: (zone.timeZone as NSTimeZone).data)
        // Readers take the time before the first onset as standard time (Python's icalendar does): where the window
        // opens in daylight time (southern summer), start at the onset of that daylight time instead.
        let earlier = self.transitions(
            of: zone.timeZone, from: windowStart.addingTimeInterval(-400 * 86_400), to: windowEnd, names: names)
        var first = earlier.firstIndex { $0.instant >= windowStart } ?? earlier.endIndex
        while first > earlier.startIndex, first < earlier.endIndex, earlier[first - 1].daylight { first -= 1 }
        let transitions = Array(earlier[first...])
        var lines = ["BEGIN:VTIMEZONE", "TZID:" + zone.identifier]
        if transitions.isEmpty {
            let offset = zone.offset(at: windowStart)
            let daylight = zone.timeZone.isDaylightSavingTime(for: windowStart)
            let onset = Transition(
                instant: windowStart, from: offset, to: offset, daylight: daylight,
                name: name(of: zone.timeZone, at: windowStart, offset: offset, daylight: daylight, names: names))
            lines += observance(onset, more: [])
        } else {
            // Transitions of one kind (same offsets, same name) share a component: DTSTART, then RDATEs.
            var groups: [[Transition]] = []
            for transition in transitions {
                if let index = groups.firstIndex(where: { sameKind($0[0], transition) }) {
                    groups[index].append(transition)
                } else {
                    groups.append([transition])
                }
            }
            for group in groups { lines += observance(group[0], more: Array(group.dropFirst())) }
        }
        lines.append("END:VTIMEZONE")
        return lines
    }

    /// From 1 January of the year before the event to 1 January after its last year, in the zone's calendar.
    static func window(zone: Zone, from: Date, to: Date) -> (Date, Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.timeZone
        let firstYear = calendar.component(.year, from: from) - 1
        let lastYear = calendar.component(.year, from: to)
        let start =
            calendar.date(from: DateComponents(year: firstYear, month: 1, day: 1))
            ?? from.addingTimeInterval(-2 * 366 * 86_400)
        let end =
            calendar.date(from: DateComponents(year: lastYear + 1, month: 1, day: 1))
            ?? to.addingTimeInterval(366 * 86_400)
        return (start, end)
    }

    static func transitions(
        of timeZone: TimeZone, from start: Date, to end: Date, names: TZifAbbreviations?
    ) -> [Transition] {
        var result: [Transition] = []
        var cursor = start
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor), next < end, next > cursor {
            let before = timeZone.secondsFromGMT(for: next.addingTimeInterval(-1))
            let after = timeZone.secondsFromGMT(for: next)
            let daylight = timeZone.isDaylightSavingTime(for: next)
            result.append(
                Transition(
                    instant: next, from: before, to: after, daylight: daylight,
                    name: name(of: timeZone, at: next, offset: after, daylight: daylight, names: names)))
            cursor = next
        }
        return result
    }

    private static func sameKind(_ a: Transition, _ b: Transition) -> Bool {
        a.from == b.from && a.to == b.to && a.daylight == b.daylight && a.name == b.name
    }

    /// A STANDARD or DAYLIGHT component. Its DTSTART and RDATEs are the local times of the onsets on the clock in
    /// force before them, as RFC 5545 §3.6.5 requires.
    private static func observance(_ first: Transition, more: [Transition]) -> [String] {
        let kind = first.daylight ? "DAYLIGHT" : "STANDARD"
        var lines = [
            "BEGIN:" + kind,
            "DTSTART:" + ICalendar.basicDateTime(wallSeconds: ICalendar.wholeSeconds(first.instant) + first.from),
        ]
        for transition in more {
            lines.append(
                "RDATE:"
                    + ICalendar.basicDateTime(wallSeconds: ICalendar.wholeSeconds(transition.instant) + transition.from)
            )
        }
        lines += [
            "TZOFFSETFROM:" + utcOffset(first.from),
            "TZOFFSETTO:" + utcOffset(first.to),
            "TZNAME:" + ICalendar.text(first.name),
            "END:" + kind,
        ]
        return lines
    }

    /// `+0800`, `-0330`, or `+053328` for the odd offsets of local mean time.
    static func utcOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        let text = String(format: "%@%02d%02d", sign, a / 3600, a / 60 % 60)
        return a % 60 == 0 ? text : text + String(format: "%02d", a % 60)
    }

    /// The tz database's abbreviation (`CET`, `CEST`, `CST`) when the zone's data has one for this offset;
    /// otherwise Foundation's, which on Linux is often only `GMT+1`.
    static func name(
        of timeZone: TimeZone, at instant: Date, offset: Int, daylight: Bool, names: TZifAbbreviations?
    ) -> String {
        if let abbreviation = names?.name(offset: offset, daylight: daylight) { return abbreviation }
        return timeZone.abbreviation(for: instant) ?? utcOffset(offset)
    }
}
