import Foundation
import Glibc
import MediationCore

/// FOR TESTS ONLY: the real clock moved by an offset read from a file (`mediationd --test-clock-file PATH`).
///
/// End-to-end tests book sessions a week ahead and then start and end them; the daemon refuses that before the
/// session's time, so a test moves the daemon's clock instead of waiting. The file holds a number of seconds to add
/// to the real time (`604800` is a week ahead, `-3600` an hour back); time runs on from there, so timers, the
/// dispatcher and every rule see one consistent "now". A changed file is read again at the next reading of the
/// clock (its inode, size and modification time are compared, so a rename over it counts). A file that cannot be
/// read or holds something else keeps the offset in force; at start it stops the daemon.
///
/// The option is refused under systemd (`INVOCATION_ID` or `NOTIFY_SOCKET` set), and a daemon started with it logs
/// a warning at start: a production daemon must never run on a moved clock.
final class FileOffsetClock: WallClock, @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var stamp: [Int] = []
    private var offset: TimeInterval

    /// - Throws: `invalidInput` naming the option when the file cannot be read or holds no number of seconds.
    init(path: String) throws {
        self.path = path
        offset = try Self.read(path)
        stamp = Self.stamp(path) ?? []
    }

    /// The environment variables that say the daemon runs under systemd, where a moved clock is refused.
    static func systemdVariables(_ environment: [String: String]) -> [String] {
        ["INVOCATION_ID", "NOTIFY_SOCKET"].filter { environment[$0]?.isEmpty == false }
    }

    var currentOffset: TimeInterval {
        let now = Self.stamp(path)
        return lock.withLock {
            if let now, now != stamp {
                stamp = now
                if let value = try? Self.read(path) { offset = value }
            }
            return offset
        }
    }

    func now() -> Date { Date().addingTimeInterval(currentOffset) }

    /// Sleeps in real time, a second at most at a time, so that a test moving the clock past the deadline wakes
    /// the sleeper within a second.
    func sleep(until deadline: Date) async throws {
        while true {
            let left = deadline.timeIntervalSince(now())
            guard left > 0 else { return try Task.checkCancellation() }
            try await Task.sleep(for: .milliseconds(Int64(min(left, 1) * 1000)))
        }
    }

    private static func stamp(_ path: String) -> [Int]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [Int(st.st_ino), Int(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec]
    }

    private static func read(_ path: String) throws -> TimeInterval {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MediationError.invalidInput(
                "--test-clock-file \(path) cannot be read", hint: "write the clock's offset in seconds into it")
        }
        guard let seconds = TimeInterval(text.trimmingCharacters(in: .whitespacesAndNewlines)), seconds.isFinite else {
            throw MediationError.invalidInput(
                "--test-clock-file \(path) holds '\(text.trimmingCharacters(in: .whitespacesAndNewlines))', not a number of seconds",
                hint: "write the offset from the real time in seconds, for example 604800 for a week ahead")
        }
        return seconds
    }
}
