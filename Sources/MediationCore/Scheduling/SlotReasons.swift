import Foundation

extension SlotEngine {
    /// Why no option fits in `[from, to)`, one line per thing a person could change.
    ///
    /// For example: `no lawyer with 'property' is free in the window: 3 are at their weekly cap, 2 are on leave,
    /// 1 has a conflict of interest`.
    func reasons(from: Int, to: Int) -> [String] {
        let (allowed, stage) = globalStarts(from: from, to: to)
        let length = "\(duration)-minute session"
        switch stage {
        case .notice:
            return [
                "no \(length) fits in the window after the minimum notice of \(search.minimumNoticeMinutes) minutes; "
                    + "widen the window or shorten the session"
            ]
        case .office:
            let first = officeClock.localDay(minute: from)
            let last = officeClock.localDay(minute: to)
            let closed = search.holidays.filter { $0.dayNumber >= first && $0.dayNumber <= last }.sorted()
            let holidayText =
                closed.isEmpty ? "" : " (holidays in it: \(closed.map(\.description).joined(separator: ", ")))"
            let hours = search.outsideOfficeHours ? "time outside holidays" : "office hours"
            return [
                "the window holds no \(hours) long enough for a \(length)\(holidayText); "
                    + "widen the window or shorten the session"
            ]
        case .parties:
            var lines: [String] = []
            let inside = search.outsideOfficeHours ? "" : " inside office hours"
            let office = globalStarts(from: from, to: to, withParties: false).spans
            for (n, party) in search.parties.enumerated()
            where MinuteSpans.firstGridPoint(MinuteSpans.intersect(office, partyStarts(party)), step: step) == nil {
                let name = search.partyNames.flatMap { $0.indices.contains(n) ? $0[n] : nil } ?? "party \(n + 1)"
                lines.append("\(name) is never free for a whole \(length)\(inside) in the window")
            }
            lines.append(
                "the parties are never all free\(inside) in the window; ask them for more times "
                    + "or widen the window")
            return lines
        case .open:
            break
        }
        var lines: [String] = []
        var stageOf: [Int: CandidateStage] = [:]
        func stageFor(_ i: Int) -> CandidateStage {
            if let s = stageOf[i] { return s }
            let s = starts(i, within: allowed).stage
            stageOf[i] = s
            return s
        }
        for (r, requirement) in search.requirements.enumerated() {
            var tally: [String: Int] = [:]
            var order: [String] = []
            var population = 0
            var free = 0
            func note(_ key: String) {
                if tally[key] == nil { order.append(key) }
                tally[key, default: 0] += 1
            }
            for (i, c) in search.candidates.enumerated() where fits(i, r) {
                population += 1
                if !c.active {
                    note("inactive")
                } else if c.conflicted {
                    note("conflict")
                } else if excluded.contains(c.id) {
                    note("excluded")
                } else {
                    switch stageFor(i) {
                    case .hours: note("hours")
                    case .leave: note("leave")
                    case .booked: note("booked")
                    case .weekCap: note("weekCap")
                    case .dayCap: note("dayCap")
                    case .free: free += 1
                    }
                }
            }
            let who = subject(requirement)
            if population == 0 {
                lines.append("the pool has no \(who); add one or relax the requirement")
                continue
            }
            guard free < requirement.count else { continue }
            let counts = order.sorted { (tally[$1] ?? 0, $0) < (tally[$0] ?? 0, $1) }.map { key in
                Self.phrase(key, tally[key] ?? 0)
            }
            let head =
                free == 0
                ? "no \(who) is free in the window"
                : "only \(free) \(who) \(free == 1 ? "is" : "are") free in the window and \(requirement.count) are needed"
            lines.append(counts.isEmpty ? head : head + ": " + counts.joined(separator: ", "))
        }
        for p in pinned {
            let s = stageFor(p)
            guard s != .free else { continue }
            let c = search.candidates[p]
            lines.append("pinned expert \(c.name) (#\(c.id)) is not free in the window: \(Self.state(s))")
        }
        if lines.isEmpty {
            lines.append(
                "every seat can be filled on its own, but the panel, the parties and office hours never line up "
                    + "for a whole \(length) in the window; widen the window, shorten the session or unpin experts")
        }
        return lines
    }

    private static func state(_ stage: CandidateStage) -> String {
        switch stage {
        case .hours: "no hours when the office is open and the parties are free"
        case .leave: "on leave"
        case .booked: "already booked at those times"
        case .weekCap: "at their weekly cap"
        case .dayCap: "at their daily cap"
        case .free: "free"
        }
    }

    private static func phrase(_ key: String, _ n: Int) -> String {
        let one = n == 1
        switch key {
        case "inactive": return "\(n) \(one ? "is" : "are") inactive"
        case "conflict": return "\(n) \(one ? "has" : "have") a conflict of interest"
        case "excluded": return "\(n) \(one ? "is" : "are") excluded from this booking"
        case "hours": return "\(n) \(one ? "has" : "have") no hours when the office is open and the parties are free"
        case "leave": return "\(n) \(one ? "is" : "are") on leave"
        case "booked": return "\(n) \(one ? "is" : "are") already booked at those times"
        case "weekCap": return "\(n) \(one ? "is" : "are") at their weekly cap"
        case "dayCap": return "\(n) \(one ? "is" : "are") at their daily cap"
        default: return "\(n) \(key)"
        }
    }
}
