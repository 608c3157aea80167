import Foundation
import Testing

/// `mediation-bench solve` and `instances`: the slot finder's contract as Benchmarks/README.md states it, run on
/// the real binary, so that another solver can rely on the README.
struct SlotFilesEndToEndTests {
    static var bench: String { Repo.bin.appendingPathComponent("mediation-bench").path }

    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theBenchInstancesAreSolvedByteForByteAndCoverTheFinderFeatures() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try runProgram(Self.bench, ["instances", dir.path, "--sizes", "200"])
        #expect(written.status == 0, "\(written)")
        var pinnedSeen = false
        var extraSeen = false
        var specialtySeat = false
        var languageSeat = false
        var twoOfARole = false
        var nearestSeen = false
        for n in 0..<5 {
            let base = dir.appendingPathComponent(String(format: "slot-00200-%02d", n)).path
            let solved = try runProgram(Self.bench, ["solve", base + ".search.json"])
            #expect(solved.status == 0, "\(solved)")
            #expect(solved.stdout == (try String(contentsOfFile: base + ".answer.json", encoding: .utf8)))
            let search = try json(String(contentsOfFile: base + ".search.json", encoding: .utf8))
            let answer = try json(solved.stdout)
            let options = try #require(answer["options"] as? [[String: Any]])
            let pinned = try #require(search["pinned"] as? [Int])
            if let id = pinned.first, !options.isEmpty {
                pinnedSeen = true
                // The pinned expert sits on every proposed panel.
                for option in options {
                    let panel = try #require(option["panel"] as? [[String: Any]])
                    #expect(panel.contains { $0["expertId"] as? Int == id })
                }
            }
            let candidates = try #require(search["candidates"] as? [[String: Any]])
            extraSeen = extraSeen || candidates.contains { !(($0["extra"] as? [Any]) ?? []).isEmpty }
            for requirement in try #require(search["requirements"] as? [[String: Any]]) {
                specialtySeat = specialtySeat || requirement["specialty"] != nil
                languageSeat = languageSeat || requirement["language"] != nil
                twoOfARole = twoOfARole || requirement["count"] as? Int == 2
            }
            if options.isEmpty, answer["nearest"] is [String: Any] { nearestSeen = true }
        }
        #expect(pinnedSeen && extraSeen && specialtySeat && languageSeat && twoOfARole && nearestSeen)
    }

    /// A search with every key the decoder requires; `change` edits it before it is written.
    private func solve(_ change: (inout [String: Any]) -> Void) throws -> Outcome {
        var search: [String: Any] = [
            "requirements": [["role": "lawyer", "count": 1]], "durationMinutes": 60,
            "window": ["start": "2027-03-27T00:00:00Z", "end": "2027-03-30T00:00:00Z"],
            "now": "2027-03-01T00:00:00Z", "minimumNoticeMinutes": 0, "bufferMinutes": 0,
            "officeTimeZone": "Europe/Berlin", "officeHours": [[String: Any]](), "outsideOfficeHours": false,
            "holidays": [String](), "parties": [[Any]](), "candidates": [[String: Any]](), "pinned": [Int](),
            "excluded": [Int](), "preferredSpecialties": [String](), "stepMinutes": 15, "maxOptions": 5,
            "nearestSearchDays": 0, "everyStart": true, "explain": true,
        ]
        change(&search)
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("case.search.json")
        try JSONSerialization.data(withJSONObject: search).write(to: file)
        return try runProgram(Self.bench, ["solve", file.path])
    }

    private func expert(
        _ id: Int, role: String = "lawyer", zone: String = "Europe/Berlin", hours: [(Int, String, String)],
        specialties: [String] = [], sessions: [(String, String)] = []
    ) -> [String: Any] {
        [
            "id": id, "name": "专家\(id)", "role": role, "specialties": specialties, "languages": [String](),
            "active": true, "conflicted": false, "timeZone": zone,
            "weeklyHours": hours.map { ["weekday": $0.0, "start": $0.1, "end": $0.2] },
            "timeOff": [Any](), "extra": [Any](), "sessions": sessions.map { ["start": $0.0, "end": $0.1] },
            "maxSessionsPerDay": 5, "maxSessionsPerWeek": 10,
        ]
    }

    private func starts(_ outcome: Outcome) throws -> [String] {
        #expect(outcome.status == 0, "\(outcome)")
        let options = try #require(try json(outcome.stdout)["options"] as? [[String: Any]])
        return options.compactMap { $0["start"] as? String }
    }

    @Test func aWallTimeInADaylightSavingGapMovesForwardByTheGap() throws {
        // Sunday 28 March 2027 in Berlin: 02:00-03:00 does not exist. An office window from 02:30 starts at 03:30
        // CEST (01:30 UTC), one hour on, not at the gap's end (03:00 CEST).
        let outcome = try solve { search in
            search["officeHours"] = [["weekday": 7, "start": "02:30", "end": "05:00"]]
            search["candidates"] = [expert(1, hours: [(7, "00:00", "24:00")])]
        }
        #expect(try starts(outcome).first == "2027-03-28T01:30:00Z")
    }

    @Test func anExpertsHoursRunAcrossMidnightWhileAnOfficeWindowDoesNot() throws {
        // Monday 23:00-24:00 and Tuesday 00:00-01:00 in Shanghai are one span for the expert: a two-hour session
        // from Monday 23:00 (15:00 UTC; 16:00 in Berlin, inside the office's 14:00-20:00) across their midnight.
        let outcome = try solve { search in
            search["window"] = ["start": "2027-03-01T00:00:00Z", "end": "2027-03-03T00:00:00Z"]
            search["now"] = "2027-02-01T00:00:00Z"
            search["durationMinutes"] = 120
            search["officeHours"] = [["weekday": 1, "start": "14:00", "end": "20:00"]]
            search["candidates"] = [
                expert(1, zone: "Asia/Shanghai", hours: [(1, "23:00", "24:00"), (2, "00:00", "01:00")])
            ]
        }
        #expect(try starts(outcome) == ["2027-03-01T15:00:00Z"])
        // The office's own windows are not joined: 23:00-24:00 Monday and 00:00-01:00 Tuesday hold no two-hour
        // session across their midnight.
        let office = try solve { search in
            search["window"] = ["start": "2027-03-01T00:00:00Z", "end": "2027-03-03T00:00:00Z"]
            search["now"] = "2027-02-01T00:00:00Z"
            search["durationMinutes"] = 120
            search["officeHours"] = [
                ["weekday": 1, "start": "23:00", "end": "24:00"], ["weekday": 2, "start": "00:00", "end": "01:00"],
            ]
            search["candidates"] = [expert(1, hours: [(1, "00:00", "24:00"), (2, "00:00", "24:00")])]
        }
        #expect(try starts(office).isEmpty)
    }

    @Test func aReversedWeeklyWindowIsIgnoredNotWrappedAroundMidnight() throws {
        let outcome = try solve { search in
            search["officeHours"] = [["weekday": 6, "start": "00:00", "end": "24:00"]]
            // Saturday 22:00-02:00: ends before it starts, so the expert has no hours at all.
            search["candidates"] = [expert(1, hours: [(6, "22:00", "02:00")])]
        }
        #expect(try starts(outcome).isEmpty)
    }

    @Test func tagsCompareWithSpacesUnderscoresAndHyphensEqual() throws {
        let outcome = try solve { search in
            search["requirements"] = [["role": "lawyer", "specialty": " Family_Law", "count": 1]]
            search["officeHours"] = [["weekday": 6, "start": "09:00", "end": "12:00"]]
            search["candidates"] = [expert(1, hours: [(6, "09:00", "12:00")], specialties: ["family law"])]
        }
        #expect(try starts(outcome).first == "2027-03-27T08:00:00Z")
    }

    @Test func seatsOfOneRequirementAreListedByRankNotById() throws {
        // Two lawyers' seats; expert 1 had a session in the 30 days before now, expert 2 none: 2 ranks first.
        let outcome = try solve { search in
            search["requirements"] = [["role": "lawyer", "count": 2]]
            search["officeHours"] = [["weekday": 6, "start": "09:00", "end": "12:00"]]
            search["candidates"] = [
                expert(1, hours: [(6, "09:00", "12:00")], sessions: [("2027-02-20T09:00:00Z", "2027-02-20T10:00:00Z")]),
                expert(2, hours: [(6, "09:00", "12:00")]),
            ]
        }
        #expect(outcome.status == 0, "\(outcome)")
        let options = try #require(try json(outcome.stdout)["options"] as? [[String: Any]])
        let panel = try #require(options.first?["panel"] as? [[String: Any]])
        #expect(panel.compactMap { $0["expertId"] as? Int } == [2, 1])
    }

    @Test func aSearchWithoutTheExplainKeyIsRefusedNamingIt() throws {
        let outcome = try solve { search in search["explain"] = nil }
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("'explain' is missing"), "\(outcome)")
        #expect(outcome.stdout.isEmpty)
    }

    @Test func aSearchBeyondTheFindersLimitsIsRefusedSayingWhich() throws {
        let outcome = try solve { search in
            search["durationMinutes"] = 481
            search["maxOptions"] = 101
        }
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("session length 481 minutes is not between 1 and 480"), "\(outcome)")
        #expect(outcome.stderr.contains("asked for 101 options; ask for 1 to 100"), "\(outcome)")
        let missing = try runProgram(Self.bench, ["solve", "/nonexistent/x.search.json"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot be read"), "\(missing)")
    }
}
