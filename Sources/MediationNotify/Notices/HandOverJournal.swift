import Foundation
import Glibc
import Synchronization

/// Messages a channel has taken, written down the moment it takes them and before the pass stores its outcomes.
///
/// A pass hands a batch to its channels and stores every outcome in one transaction at the end. Without this file, a
/// daemon killed in between would send the whole batch again after a restart. Each line is an outbox id, appended
/// with one `write(2)` as soon as the server has answered `250` (or the webhook `2xx`); the kernel keeps it even if
/// the process is killed the next instant. The next pass marks those messages sent before it looks for due ones,
/// then empties the file. What remains is the moment between the server's answer and the write: SMTP cannot say
/// more, and the stable Message-ID lets a receiver recognise the rare duplicate. A power cut can lose the file's
/// last lines (it is not fsynced on each message); then those messages go again, as before.
public final class HandOverJournal: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>

    /// Opens (creating, mode 0600) the journal at `path`.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        descriptor = Mutex(fd)
    }

    deinit { descriptor.withLock { _ = close($0) } }

    /// Notes that `channel` took outbox message `id`.
    public func append(_ id: Int64, channel: String) {
        let line = Array("\(id)\t\(channel)\n".utf8)
        descriptor.withLock { fd in
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    /// The messages written since the last `clear()`, with the channel that took each.
    public func taken() -> [(id: Int64, channel: String)] {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return [] }
        // A line is written whole by one write(2); one without its channel or newline is not trusted.
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .compactMap { line in
                let fields = line.split(separator: "\t")
                guard fields.count == 2, let id = Int64(fields[0]) else { return nil }
                return (id, String(fields[1]))
            }
    }

    /// Forgets every id (after their outcomes are stored).
    public func clear() {
        descriptor.withLock { fd in _ = ftruncate(fd, 0) }
    }

    struct JournalError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
