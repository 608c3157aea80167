import Foundation
import GRDB
import Glibc
import MediationCore
import MediationStore

/// `report weekly` and `report outcomes` over a store of 100,000 disputes and 300,000 sessions, whole process.
enum ReportBench {
    /// Builds the store, starts a daemon on it, and times the two reports (median of `runs`).
    static func run(bin: String, directory: URL, disputes: Int = 100_000, sessions: Int = 300_000, runs: Int = 5)
        throws -> [String]
    {
        let path = directory.appendingPathComponent("report.sqlite").path
        let buildStart = DispatchTime.now().uptimeNanoseconds
        try build(path: path, disputes: disputes, sessions: sessions)
        let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e9

        let socket = directory.appendingPathComponent("report.sock").path
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "\(bin)/mediationd")
        var env = ProcessInfo.processInfo.environment
        env["MEDIATIOND_SOCKET_PATH"] = socket
        env["MEDIATIOND_STORE_PATH"] = path
        env["MEDIATIOND_SPOOL_DIRECTORY"] = directory.appendingPathComponent("report-outbox").path
        env["MEDIATIOND_LOG_LEVEL"] = "error"
        daemon.environment = env
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        close(try waitForSocket(socket))
        let ctl = "\(bin)/mediationctl"
        let today = Zone.shanghai.wallClock(Date()).date
        func time(_ arguments: [String]) throws -> Double {
            try runQuiet(ctl, ["--socket", socket] + arguments)  // warm-up: page cache, statements
            var wall: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try runQuiet(ctl, ["--socket", socket] + arguments)
                wall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return percentile(wall, 50)
        }
        let weekly = try time(["report", "weekly"])
        let weeklyHTML = try time(["report", "weekly", "--html"])
        let quarter = ["report", "outcomes", "--from", today.adding(days: -91).description, "--to", today.description]
        let outcomes = try time(quarter)
        let byOffice = try time(quarter + ["--by", "office"])
        let year = try time([
            "report", "outcomes", "--from", today.adding(days: -365).description, "--to", today.description,
        ])
        // What the timed runs counted, so the figures are known to cover real rows.
        let shown = Process()
        shown.executableURL = URL(fileURLWithPath: ctl)
        shown.arguments = ["--socket", socket, "report", "weekly"]
        let pipe = Pipe()
        shown.standardOutput = pipe
        try shown.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shown.waitUntilExit()
        let counted = text.split(separator: "\n").filter {
            $0.hasPrefix("在办纠纷 open disputes") || $0.hasPrefix("本周已调解场次") || $0.hasPrefix("下周待调解场次")
        }.map { $0.split(separator: " ").joined(separator: " ") }
        return [
            "report weekly counted: " + counted.joined(separator: "; "),
            String(format: "report store: %d disputes, %d sessions built in %.1f s", disputes, sessions, buildSeconds),
            String(
                format: "mediationctl report weekly, whole process, median of %d: %.0f ms (--html %.0f ms)", runs,
                weekly, weeklyHTML),
            String(
                format:
                    "mediationctl report outcomes, last 91 days, median of %d: %.0f ms (--by office %.0f ms; 365 days %.0f ms)",
                runs, outcomes, byOffice, year),
            "target: each report ≤ 1000 ms",
        ]
    }

    /// The schema through the project's migrations, then rows inserted with prepared statements in one
    /// transaction: three years of disputes, about three sessions each (three seats), an outcome per held session.
    static func build(path: String, disputes: Int, sessions: Int) throws {
        _ = try AppDatabase.open(path: path)
        var config = Configuration()
        config.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: config)
        let now = Date().timeIntervalSince1970
        let span = 3 * 365 * 86400.0
        // A scratch store: no fsync needed while it is built.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        try queue.write { db in
            for (id, name, prefix) in [("jinshan", "金山警务室", "JS"), ("xinhua", "新华警务室", "XH")] {
                try db.execute(
                    sql: """
                        INSERT INTO office (id, name, time_zone, working_hours, default_session_minutes, created_at,
                          updated_at, dispute_prefix) VALUES (?, ?, 'Asia/Shanghai', '', 90, ?, ?, ?)
                        """, arguments: [id, name, now, now, prefix])
            }
            let roles = ["legal_officer", "lawyer", "community_staff"]
            for i in 0..<30 {
                try db.execute(
                    sql: """
                        INSERT INTO expert (name, role, specialties, languages, serves_all_offices, offices, time_zone,
                          max_sessions_per_day, max_sessions_per_week, active, weekly_hours, created_at, updated_at)
                        VALUES (?, ?, '', '', 1, '', 'Asia/Shanghai', 3, 10, 1, '', ?, ?)
                        """, arguments: ["专家\(i)", roles[i % 3], now, now])
            }
            let dispute = try db.makeStatement(
                sql: """
                    INSERT INTO dispute (id, number, office_id, year, sequence, title, category, risk, status, opened_at,
                      updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let session = try db.makeStatement(
                sql: """
                    INSERT INTO session (id, dispute_id, office_id, starts_at, ends_at, status, sequence, created_at,
                      updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
                    """)
            let seat = try db.makeStatement(
                sql: """
                    INSERT INTO session_panel (session_id, expert_id, requirement_index, requirement, invitation, lead)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
            let outcome = try db.makeStatement(
                sql: """
                    INSERT INTO outcome (session_id, dispute_id, result, signed, held_at, recorded_at, recorded_uid)
                    VALUES (?, ?, ?, 1, ?, ?, 0)
                    """)
            let categories = Dispute.defaultCategories
            let risks = ["low", "low", "medium", "medium", "high", "critical"]
            let results = OutcomeResult.allCases.map(\.rawValue)
            var sessionId: Int64 = 0
            var random = SplitMix(seed: 42)
            for i in 1...disputes {
                let office = i % 2 == 0 ? "jinshan" : "xinhua"
                let opened = now - span + span * Double(i) / Double(disputes)
                let recent = now - opened < 45 * 86400
                let status =
                    recent ? ["open", "scheduled", "unresolved", "resolved"][i % 4] : (i % 50 == 0 ? "open" : "closed")
                try dispute.execute(arguments: [
                    i, "\(office == "jinshan" ? "JS" : "XH")-B-\(i)", office, 2026, i, "纠纷 \(i)",
                    categories[i % categories.count], risks[Int(random.next() % 6)], status, opened, opened,
                ])
                // Sessions per dispute: three on average, the exact total spread evenly.
                let count = Int(Int64(sessions) * Int64(i) / Int64(disputes) - sessionId)
                for k in 0..<count {
                    sessionId += 1
                    let start = opened + Double(7 + 7 * k) * 86400 + Double(random.next() % 8) * 3600
                    let status = start > now ? "booked" : (random.next() % 20 == 0 ? "no_show" : "ended")
                    try session.execute(arguments: [
                        sessionId, i, office, start, start + 5400, status, opened, opened,
                    ])
                    for r in 0..<3 {
                        try seat.execute(arguments: [
                            sessionId, Int64(1 + (Int(random.next() % 10) * 3 + r)), r, roles[r],
                            random.next() % 10 == 0 ? "declined" : "accepted", r == 0,
                        ])
                    }
                    if status == "ended" && k == count - 1 {
                        try outcome.execute(arguments: [
                            sessionId, i, results[Int(random.next() % UInt64(results.count))], start + 5400,
                            start + 7200,
                        ])
                    }
                }
            }
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "ANALYZE") }
    }
}

/// A small seeded generator, so every run builds the same store.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
