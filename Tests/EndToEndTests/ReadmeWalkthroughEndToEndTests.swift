import Foundation
import Testing

/// The README's walkthrough, pasted as a newcomer would (issue 14, item 13): the shell blocks of the Walkthrough,
/// of the outcomes and follow-ups, and of the audit, each run by bash with `set -e -o pipefail` in a folder laid out
/// like the checkout, against `mediationd` started there without `--config` (the embedded default, state in `./var`).
@Suite(.serialized)
struct ReadmeWalkthroughEndToEndTests {
    /// The README's sections whose shell blocks are meant to be pasted; the others build and install.
    static let pasted = ["## Walkthrough", "## Outcomes, follow-up visits", "## Audit and privacy"]

    /// A folder like the checkout: `.build/debug/mediationctl` and `Config/` reachable, the daemon run in it as
    /// `make run` runs it, on a clock the test moves (`--test-clock-file`) to the days the README waits for.
    final class Checkout: @unchecked Sendable {
        let folder: URL
        let clockFile: URL
        let log: URL
        var process: Process?

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)")
            let debug = folder.appendingPathComponent(".build/debug")
            try FileManager.default.createDirectory(at: debug, withIntermediateDirectories: true)
            for program in ["mediationctl", "mediationd"] {
                try FileManager.default.createSymbolicLink(
                    at: debug.appendingPathComponent(program),
                    withDestinationURL: Repo.bin.appendingPathComponent(program))
            }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("Config"),
                withDestinationURL: Repo.root.appendingPathComponent("Config"))
            clockFile = folder.appendingPathComponent("clock-offset")
            try "0\n".write(to: clockFile, atomically: true, encoding: .utf8)
            log = folder.appendingPathComponent("daemon.log")
        }

        var socket: String { folder.appendingPathComponent("var/api.sock").path }

        /// `.build/debug/mediationd` in the folder, without `--config`, until its socket serves.
        func start() throws {
            let process = Process()
            process.executableURL = Repo.bin.appendingPathComponent("mediationd")
            process.arguments = ["--test-clock-file", clockFile.path]
            process.currentDirectoryURL = folder
            var environment = ProcessInfo.processInfo.environment
            for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "INVOCATION_ID", "MEDIATION_SOCKET"] {
                environment[key] = nil
            }
            process.environment = environment
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                guard process.isRunning else { throw HarnessError("mediationd exited before serving:\n\(daemonLog)") }
                if socketAnswers(socket) && daemonLog.contains("] serving") { return }
                usleep(20_000)
            }
            throw HarnessError("mediationd did not serve within 30 s:\n\(daemonLog)")
        }

        var daemonLog: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// The daemon's clock reads `instant` now, and runs on from there.
        func setClock(to instant: Date) throws {
            try "\(instant.timeIntervalSinceNow)\n".write(to: clockFile, atomically: true, encoding: .utf8)
        }

        func json(_ arguments: String...) throws -> [String: Any] {
            let run = try runProgram(Repo.ctl, ["--socket", socket, "--json"] + arguments)
            guard run.status == 0,
                let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            else { throw HarnessError("mediationctl \(arguments): \(run)") }
            return object
        }

        /// Runs a README block in the folder as a newcomer pastes it into a new terminal.
        func paste(_ block: String) throws -> Outcome {
            var environment = ProcessInfo.processInfo.environment
            environment["MEDIATION_SOCKET"] = nil
            return try runProgram(
                "/bin/bash", ["-e", "-o", "pipefail", "-c", block], environment: environment, cwd: folder.path)
        }

        deinit {
            terminateAndWait(process)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// `2026-12-10` at 09:00 in Shanghai.
    static func morning(of day: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: "\(day)T09:00:00+08:00"), "a day like 2026-12-10: \(day)")
    }

    @Test func theWalkthroughRunsAsPasted() throws {
        let readme = try String(contentsOf: Repo.root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = ReadmeBlocks.shellBlocks(readme).filter { block in
            Self.pasted.contains { block.section.hasPrefix($0) }
        }
        #expect(blocks.count >= 4, "\(blocks.map(\.section))")
        // The walkthrough is pasted whole, the session is held before its outcome is recorded.
        let all = blocks.map(\.text).joined(separator: "\n")
        for step in ["$ctl session book", "$ctl session start 1", "$ctl session end 1", "$ctl outcome record 1"] {
            #expect(all.contains(step), "the README pastes '\(step)'")
        }
        if let start = all.range(of: "$ctl session start 1"), let end = all.range(of: "$ctl session end 1") {
            #expect(start.lowerBound < end.lowerBound, "start before end")
        }

        let checkout = try Checkout()
        try checkout.start()
        for block in blocks {
            // The README says to wait for these; the daemon's clock goes there instead.
            if block.text.contains("$ctl session start 1") {
                let session = try checkout.json("session", "show", "1")
                let text = try #require(session["start"] as? String)
                let start = try #require(ISO8601DateFormatter().date(from: text), "a start such as 2026-12-14T14:00+08:00")
                try checkout.setClock(to: start.addingTimeInterval(60))
            }
            if block.text.contains("$ctl followup record 2") {
                let visits = try #require(
                    try checkout.json("followup", "list", "--all")["followUps"] as? [[String: Any]])
                let due = try #require(visits.first { $0["id"] as? Int == 2 }?["dueOn"] as? String, "\(visits)")
                try checkout.setClock(to: try Self.morning(of: due))
            }
            let run = try checkout.paste(block.text)
            try #require(
                run.status == 0,
                "a README block of \(block.section) fails as pasted:\n\(block.text)\n→ \(run)\nlog:\n\(checkout.daemonLog)"
            )
        }

        // What the README said would happen, did.
        let session = try checkout.json("session", "show", "1")
        #expect(session["status"] as? String == "ended", "\(session)")
        let outcome = try checkout.json("outcome", "show", "1")
        #expect(outcome["amountFen"] as? Int == 120_000, "the amended amount: \(outcome)")
        let visits = try #require(try checkout.json("followup", "list", "--all")["followUps"] as? [[String: Any]])
        #expect(visits.first { $0["id"] as? Int == 2 }?["result"] as? String == "relapsed", "\(visits)")
        let spool = checkout.folder.appendingPathComponent("var/outbox/new").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).contains { $0.hasSuffix(".eml") })
        for file in ["roster.csv", "weekly.html", "experts.csv", "outcomes.csv"] {
            #expect(
                FileManager.default.fileExists(atPath: checkout.folder.appendingPathComponent(file).path), "\(file)")
        }
    }
}
