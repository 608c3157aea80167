import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The crash harness: cycles of a booking storm from 8 clients over the real socket, the daemon SIGKILLed at a
/// random moment of it, and restarted. After each cycle every acknowledged booking is in the store, no expert is
/// booked twice at once, each acknowledged booking's notices reach a real SMTP server (aiosmtpd, STARTTLS and AUTH)
/// exactly once by Message-ID, and the database passes `PRAGMA integrity_check`.
///
/// `make test` runs 5 cycles; `make crashtest` runs more (CRASH_CYCLES).
@Suite(.serialized)
struct CrashHarnessTests {
    static let clients = 8
    static let perClient = 60

    struct Check: Decodable {
        var outstanding: Int
        var integrity: String
        var acked: Int
        var missing: [Int]
        var overlaps: [[Int]]
        var notices: Int
        var statuses: [String: Int]
        var received: Int
        var notReceived: [String]
        var duplicates: [String]
        var duplicateCount: Int
        var receivedTotal: Int
    }

    let python = Repo.root.appendingPathComponent(".venv/bin/python").path
    let storm = Repo.root.appendingPathComponent("Tests/peers/booking_storm.py").path

    func check(_ d: DaemonUnderTest, acked: URL, received: URL) throws -> Check {
        let r = try runProgram(
            python,
            [
                storm, "check", "--db", d.databasePath, "--acked", acked.path, "--received", received.path,
                "--domain", "jinshan.example",
            ])
        guard r.status == 0 else { throw HarnessError("the check failed: \(r)") }
        return try JSONDecoder().decode(Check.self, from: Data(r.stdout.utf8))
    }

    /// Lines of the storm's answers: (client, index, status, session).
    func answers(_ file: URL) -> [(Int, Int, String, Int?)] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t").map(String.init)
            guard f.count == 4, let c = Int(f[0]), let k = Int(f[1]) else { return nil }
            return (c, k, f[2], Int(f[3]))
        }
    }

    @Test func bookingStormsSurviveSIGKILLWithNothingAcknowledgedLostAndEveryNoticeSentOnce() throws {
        let cycles = Int(ProcessInfo.processInfo.environment["CRASH_CYCLES"] ?? "") ?? 5
        let notices = NoticeEndToEndTests()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crashes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cert = try notices.certificate(in: scratch)
        let received = scratch.appendingPathComponent("received")
        try FileManager.default.createDirectory(at: received, withIntermediateDirectories: true)
        let smtp = try Peer(
            "smtp_server.py",
            [
                "--out", received.path, "--cert", cert.cert, "--key", cert.key, "--starttls", "--user", "mediation",
                "--password", "s3cret-pw", "--fast",
            ], log: scratch.appendingPathComponent("smtp.log"))
        defer { smtp.stop() }
        let d = try DaemonUnderTest(
            extraYAML: try notices.smtpYAML(port: smtp.port, dir: scratch, cert: cert.cert, retryBase: 1))
        try d.start()
        defer { d.stop() }

        // Twelve experts, four of each role, free all week with room under their caps: four trios.
        #expect(try d.ctl("office", "add", "hq", "--name", "金山警务室", "--hours", "mon-sun 00:00-24:00").status == 0)
        var roster = ["name,role,mobile,email,offices,weekly_hours,max_per_day,max_per_week"]
        for t in 0..<4 {
            for (r, role) in ["legal_officer", "lawyer", "community_staff"].enumerated() {
                roster.append(
                    "专家\(t)-\(r),\(role),139\(String(format: "%08d", t * 10 + r)),e\(t)-\(r)@example.org,hq,"
                        + "mon-sun 00:00-24:00,24,100")
            }
        }
        let rosterFile = scratch.appendingPathComponent("roster.csv")
        try (roster.joined(separator: "\n") + "\n").write(to: rosterFile, atomically: true, encoding: .utf8)
        let imported = try d.ctl("expert", "import", rosterFile.path)
        #expect(imported.status == 0, "\(imported)")
        let list = try #require(try d.json("expert", "list", "--office", "hq") as? [String: Any])
        let experts = try #require(list["experts"] as? [[String: Any]])
        func ids(_ role: String) -> [Int] {
            experts.filter { $0["role"] as? String == role }.compactMap { $0["id"] as? Int }.sorted()
        }
        let (legal, lawyers, staff) = (ids("legal_officer"), ids("lawyer"), ids("community_staff"))
        try #require(legal.count == 4 && lawyers.count == 4 && staff.count == 4)

        let formatter = ISO8601DateFormatter()
        let firstDay = (Int(Date().timeIntervalSince1970) / 86400 + 3) * 86400
        var acknowledged: [Int] = []
        var totals = (acked: 0, conflicts: 0, lost: 0, notices: 0)
        for cycle in 0..<cycles {
            let dir = scratch.appendingPathComponent("cycle-\(cycle)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let numbersFile = dir.appendingPathComponent("disputes.json")
            let opened = try runProgram(
                python,
                [
                    storm, "disputes", "--socket", d.socket, "--office", "hq", "--count",
                    String(Self.clients * Self.perClient), "--out", numbersFile.path,
                ])
            try #require(opened.status == 0, "\(opened)")
            let numbers = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: numbersFile)) as? [String])
            // Client c's k-th booking: two-hourly slots of this cycle's days; clients c and c+4 ask for the same
            // trio at the same time, so exactly one of them may win it.
            let base = firstDay + cycle * 6 * 86400
            let plan: [[[String: Any]]] = (0..<Self.clients).map { c in
                (0..<Self.perClient).map { k in
                    let trio = (c + k) % 4
                    return [
                        "dispute": numbers[c * Self.perClient + k],
                        "start": formatter.string(from: Date(timeIntervalSince1970: TimeInterval(base + k * 7200))),
                        "panel": [legal[trio], lawyers[trio], staff[trio]].map(String.init),
                        "durationMinutes": 60,
                    ]
                }
            }
            let planFile = dir.appendingPathComponent("plan.json")
            try JSONSerialization.data(withJSONObject: plan).write(to: planFile)
            let answersFile = dir.appendingPathComponent("answers.tsv")
            let stormer = Process()
            stormer.executableURL = URL(fileURLWithPath: python)
            stormer.arguments = [
                storm, "storm", "--socket", d.socket, "--plan", planFile.path, "--out", answersFile.path,
            ]
            stormer.standardError = FileHandle.nullDevice
            try stormer.run()
            let stormStart = Date()
            // The kill comes after a random number of answers, then a random few milliseconds: mid-storm.
            let after = Int.random(in: 10...150)
            let deadline = Date().addingTimeInterval(60)
            while answers(answersFile).count < after, stormer.isRunning, Date() < deadline { usleep(2_000) }
            usleep(UInt32.random(in: 0...20_000))
            let pid = try #require(d.process?.processIdentifier)
            let stormStillRunning = stormer.isRunning
            let stormSeconds = Date().timeIntervalSince(stormStart)
            kill(pid, SIGKILL)
            d.process?.waitUntilExit()
            stormer.waitUntilExit()
            #expect(stormStillRunning, "cycle \(cycle): the storm ended before the kill; make it longer")

            let lines = answers(answersFile)
            let acked = lines.filter { $0.2 == "201" }.compactMap(\.3)
            let conflicts = lines.filter { $0.2 == "409" }.count
            let lost = lines.filter { $0.2 == "lost" }.count
            let other = lines.filter { !["201", "409", "lost"].contains($0.2) }
            #expect(other.isEmpty, "cycle \(cycle): unexpected answers \(other.prefix(5))")
            acknowledged += acked
            totals.acked += acked.count
            totals.conflicts += conflicts
            totals.lost += lost

            try d.start()
            let ackedFile = dir.appendingPathComponent("acked.json")
            try JSONSerialization.data(withJSONObject: acknowledged).write(to: ackedFile)
            // Recovery: every acknowledged booking's notices go out (3 experts and 1 party each).
            var result = try check(d, acked: ackedFile, received: received)
            let until = Date().addingTimeInterval(120)
            while Date() < until,
                result.outstanding > 0 || result.received < result.notices || result.statuses["sent"] != result.notices
            {
                usleep(200_000)
                result = try check(d, acked: ackedFile, received: received)
            }
            usleep(300_000)  // anything sent twice would have arrived by now
            result = try check(d, acked: ackedFile, received: received)
            #expect(result.integrity == "ok", "cycle \(cycle)")
            #expect(result.outstanding == 0, "cycle \(cycle): \(result.outstanding) notices still to go out")
            #expect(result.missing.isEmpty, "cycle \(cycle): acknowledged bookings lost: \(result.missing)")
            #expect(result.overlaps.isEmpty, "cycle \(cycle): experts booked twice at once: \(result.overlaps)")
            #expect(result.notices == 4 * acknowledged.count, "cycle \(cycle): \(result.notices) notices")
            #expect(result.statuses == ["sent": result.notices], "cycle \(cycle): \(result.statuses)")
            #expect(result.notReceived.isEmpty, "cycle \(cycle): never received \(result.notReceived)")
            #expect(result.received == result.notices, "cycle \(cycle): \(result.received) of \(result.notices)")
            #expect(
                result.duplicateCount == 0,
                "cycle \(cycle): received twice: \(result.duplicates)\n\(d.log().split(separator: "\n").filter { $0.contains("outbox") }.suffix(20).joined(separator: "\n"))"
            )
            totals.notices = result.notices
            print(
                "crash cycle \(cycle + 1)/\(cycles): killed after \(lines.count) answers (\(String(format: "%.2f", stormSeconds)) s); acknowledged \(acked.count), "
                    + "conflicts \(conflicts), in flight \(lost); store ok, \(result.notices) notices each received once"
            )
        }
        // Across every cycle, contention happened and bookings were acknowledged.
        #expect(totals.acked > 0 && totals.conflicts > 0)
        print(
            "crash harness: \(cycles) cycles, \(totals.acked) bookings acknowledged, \(totals.conflicts) refused as "
                + "conflicts, \(totals.lost) in flight at a kill; lost 0, double-booked 0, \(totals.notices) notices "
                + "each received exactly once; integrity ok")
        // Survives a clean restart too.
        #expect(d.stop() == 0)
        try d.start()
        let ackedFile = scratch.appendingPathComponent("acked-final.json")
        try JSONSerialization.data(withJSONObject: acknowledged).write(to: ackedFile)
        let last = try check(d, acked: ackedFile, received: received)
        #expect(last.missing.isEmpty && last.integrity == "ok" && last.duplicateCount == 0)
    }
}
