import Foundation
import Testing

#if os(Linux)
    /// Runs scripts/check-systemd.sh: the unit verifies without a word, its exposure is 2.0 or lower, and the
    /// sysusers.d and tmpfiles.d snippets apply cleanly to a scratch root.
    @Suite struct SystemdUnitTests {
        @Test func unitVerifiesAndIsHardened() throws {
            let root = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent()  // EndToEndTests
                .deletingLastPathComponent()  // Tests
                .deletingLastPathComponent()  // the repository
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [root.appendingPathComponent("scripts/check-systemd.sh").path]
            process.currentDirectoryURL = root
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "scripts/check-systemd.sh failed:\n\(output)")
        }
    }
#endif
