import Foundation

extension SlotEngine {
    /// Why no option fits in `[from, to)`, one line per thing a person could change.
    ///
    /// For example: `no lawyer with 'property' is free in the window: 3 are at their weekly cap, 2 are on leave,
    /// 1 has a conflict of interest`.
    func reasons(from: Int, to: Int) -> [(en: String, zh: String)] {
        let (allowed, stage) = globalStarts(from: from, to: to)
        let length = "\(duration)-minute session"
        let lengthZh = "\(duration) 分钟的调解"
        switch stage {
        case .notice:
            return [
                (
                    "no \(length) fits in the window after the minimum notice of \(search.minimumNoticeMinutes) minutes; "
                        + "widen the window or shorten the session",
                    "扣除最短提前通知（\(search.minimumNoticeMinutes) 分钟）后，这段时间放不下一场 \(lengthZh)；请放宽日期范围或缩短时长"
                )
            ]
        case .office:
            let first = officeClock.localDay(minute: from)
            let last = officeClock.localDay(minute: to)
            let closed = search.holidays.filter { $0.dayNumber >= first && $0.dayNumber <= last }.sorted()
            let holidayText =
                closed.isEmpty ? "" : " (holidays in it: \(closed.map(\.description).joined(separator: ", ")))"
            let hours = search.outsideOfficeHours ? "time outside holidays" : "office hours"
            let holidayZh = closed.isEmpty ? "" : "（其中节假日：\(closed.map { Words.day($0, .zh) }.joined(separator: "、"))）"
            return [
                (
                    "the window holds no \(hours) long enough for a \(length)\(holidayText); "
                        + "widen the window or shorten the session",
                    "这段时间里没有足够长的\(search.outsideOfficeHours ? "非节假日时间" : "办公时间")放下一场 \(lengthZh)\(holidayZh)；"
                        + "请放宽日期范围或缩短时长"
                )
            ]
        case .parties:
            var lines: [(en: String, zh: String)] = []
            let inside = search.outsideOfficeHours ? "" : " inside office hours"
            let insideZh = search.outsideOfficeHours ? "在这段时间内" : "在这段时间的办公时间内"
            let office = globalStarts(from: from, to: to, withParties: false).spans
            for (n, party) in search.parties.enumerated()
            where MinuteSpans.firstGridPoint(MinuteSpans.intersect(office, partyStarts(party)), step: step) == nil {
                let named = search.partyNames.flatMap { $0.indices.contains(n) ? $0[n] : nil }
                lines.append(
                    (
                        "\(named ?? "party \(n + 1)") is never free for a whole \(length)\(inside) in the window",
                        "\(Self.partyChinese(named, position: n + 1))\(insideZh)没有连续 \(duration) 分钟的空闲"
                    ))
            }
            lines.append(
                (
                    "the parties are never all free\(inside) in the window; ask them for more times "
                        + "or widen the window",
                    "各方当事人\(insideZh)没有同时有空的时候；请向当事人多要几个可以参加的时间，或放宽日期范围"
                ))
            return lines
        case .open:
            break
        }
        var lines: [(en: String, zh: String)] = []
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
            let whoZh = subjectChinese(requirement)
            if population == 0 {
                lines.append(("the pool has no \(who); add one or relax the requirement", "专家库里没有\(whoZh)；请添加，或放宽要求"))
                continue
            }
            guard free < requirement.count else { continue }
            let keys = order.sorted { (tally[$1] ?? 0, $0) < (tally[$0] ?? 0, $1) }
            let counts = keys.map { Self.phrase($0, tally[$0] ?? 0) }
            let countsZh = keys.map { Self.phraseChinese($0, tally[$0] ?? 0) }
            let head =
                free == 0
                ? "no \(who) is free in the window"
                : "only \(free) \(who) \(free == 1 ? "is" : "are") free in the window and \(requirement.count) are needed"
            let headZh =
                free == 0 ? "这段时间没有有空的\(whoZh)" : "这段时间只有 \(free) 位\(whoZh)有空，需要 \(requirement.count) 位"
            lines.append(
                (
                    counts.isEmpty ? head : head + ": " + counts.joined(separator: ", "),
                    countsZh.isEmpty ? headZh : headZh + "：" + countsZh.joined(separator: "，")
                ))
        }
        for p in pinned {
            let s = stageFor(p)
            guard s != .free else { continue }
            let c = search.candidates[p]
            lines.append(
                (
                    "pinned expert \(c.name) (#\(c.id)) is not free in the window: \(Self.state(s))",
                    "指定的专家\(c.name)（#\(c.id)）这段时间没空：\(Self.stateChinese(s))；请换一位专家或换个时间"
                ))
        }
        if lines.isEmpty {
            lines.append(
                (
                    "every seat can be filled on its own, but the panel, the parties and office hours never line up "
                        + "for a whole \(length) in the window; widen the window, shorten the session or unpin experts",
                    "每个席位单独都能找到专家，但专家组、当事人和办公时间这段时间始终凑不出连续 \(duration) 分钟；"
                        + "请放宽日期范围、缩短时长，或取消指定的专家"
                ))
        }
        return lines
    }

    /// A requirement in Chinese: `律师（专长：物业）`.
    func subjectChinese(_ r: PanelRequirement) -> String {
        var text = r.role.chinese
        if let s = r.specialty.flatMap({ Tag.normalize([$0]).first }) { text += "（专长：\(Words.specialty(s, .zh))）" }
        if let l = r.language.flatMap({ Tag.normalize([$0]).first }) { text += "（语言：\(l)）" }
        return text
    }

    /// A party as the Chinese reasons name it: `当事人李明（#3）` from the search's `李明 (party #3)`, or by position
    /// (`第 2 位当事人`) when the search has no names.
    static func partyChinese(_ named: String?, position: Int) -> String {
        guard let named else { return "第 \(position) 位当事人" }
        if named.hasSuffix(")"), let open = named.range(of: " (party #", options: .backwards) {
            let id = named[open.upperBound..<named.index(before: named.endIndex)]
            if !id.isEmpty, id.allSatisfy({ $0.isASCII && $0.isNumber }) {
                return "当事人\(named[..<open.lowerBound])（#\(id)）"
            }
        }
        return "当事人\(named)"
    }

    private static func stateChinese(_ stage: CandidateStage) -> String {
        switch stage {
        case .hours: "其可约时间与办公时间、当事人的空闲时间没有重叠"
        case .leave: "请假"
        case .booked: "这些时间已有预约"
        case .weekCap: "已达每周场次上限"
        case .dayCap: "已达每日场次上限"
        case .free: "有空"
        }
    }

    private static func phraseChinese(_ key: String, _ n: Int) -> String {
        switch key {
        case "inactive": "\(n) 位已停用"
        case "conflict": "\(n) 位有利害关系需回避"
        case "excluded": "\(n) 位本次被排除"
        case "hours": "\(n) 位的可约时间与办公时间、当事人的空闲时间没有重叠"
        case "leave": "\(n) 位请假"
        case "booked": "\(n) 位这些时间已有预约"
        case "weekCap": "\(n) 位已达每周场次上限"
        case "dayCap": "\(n) 位已达每日场次上限"
        default: "\(n) 位\(key)"
        }
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
