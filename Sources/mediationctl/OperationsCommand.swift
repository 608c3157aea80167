import ArgumentParser
import Foundation
import MediationAPI
import OpenAPIRuntime

#if canImport(Glibc)
    import Glibc
#endif

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show what mediationd is doing: version, uptime, store, outbox queues, last delivery error, last backup.",
        discussion: """
            'oldest due' is how long the longest-waiting message that is due has waited; 'last error' is the last \
            delivery attempt that failed (see 'outbox show ID'). Metrics for Prometheus are at GET /v1/metrics.

            Examples:
              mediationctl status
              mediationctl --json status
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try global.client()
        switch try await client.call({ try await $0.getStatus() }) {
        case .ok(let ok):
            let s = try ok.body.json
            if global.json { return try printJSON(s) }
            let o = s.outbox
            let t = Say.t
            var rows: [(String, String)] = [
                (t("version", "版本"), s.version), (t("pid", "进程号"), String(s.pid)),
                (t("uptime", "已运行"), duration(s.uptimeSeconds) + t(" (since \(s.startedAt))", "（自 \(s.startedAt) 起）")),
                (t("schema", "数据结构"), s.schemaVersion),
                (t("store", "数据库"), "\(s.store.path) (\(byteCount(s.store.bytes)))"),
                (
                    t("writable", "可写入"),
                    s.store.writable
                        ? t("yes, changes are taken", "是，可以修改")
                        : t("NO, changes are refused (reads go on): ", "否，暂不接受修改（仍可查询）：")
                            + (s.store.problem ?? t("the store is read-only", "数据库为只读"))
                ),
                (
                    t("outbox", "发件箱"),
                    Say.zh
                        ? "待发送 \(o.pending)，发送失败（将重试）\(o.failed)，无法送达 \(o.dead)，已发送 \(o.sent)，已跳过 \(o.skipped)"
                        : "pending \(o.pending), failed \(o.failed), dead \(o.dead), sent \(o.sent), skipped \(o.skipped)"
                ),
                (
                    t("oldest due", "最久等待"),
                    o.oldestDueSeconds.map { duration($0) + t(" waiting", "") } ?? t("none waiting", "无")
                ),
            ]
            if let e = s.lastDeliveryError {
                rows.append(
                    (
                        t("last error", "最近失败"),
                        "\(e.at) " + (e.channel == "-" ? "" : "\(e.channel), ")
                            + t("message \(e.message)", "通知 #\(e.message)") + t(": ", "：") + e.detail
                    ))
            } else {
                rows.append((t("last error", "最近失败"), t("none", "无")))
            }
            if let b = s.lastBackup {
                let who = b.user.map { "\($0) (uid \(b.uid))" } ?? "uid \(b.uid)"
                rows.append(
                    (
                        t("last backup", "最近备份"),
                        Say.zh
                            ? "\(b.at)，\(byteCount(b.bytes))，由 \(who)" + (b.destination.map { "，存至 \($0)" } ?? "")
                            : "\(b.at), \(byteCount(b.bytes)) by \(who)" + (b.destination.map { " to \($0)" } ?? "")
                    ))
            } else {
                rows.append(
                    (t("last backup", "最近备份"), t("never", "从未备份") + " (mediationctl backup --to FILE)"))
            }
            rows.append(
                (t("warnings", "预警"), t("\(s.warnings) raised", "已发出 \(s.warnings) 条") + " (mediationctl warning list)")
            )
            if let q = s.smsQuota {
                rows.append(
                    (
                        t("SMS quota", "短信额度"),
                        t("USED UP since \(q.since): ", "已用完（自 \(q.since) 起），短信暂缓发送，充值后自动补发：") + q.detail
                    ))
            }
            let unreached = s.unreached ?? []
            let people = unreached.reduce(0) { $0 + $1.people.count }
            rows.append(
                (
                    t("not reached", "无法通知"),
                    unreached.isEmpty
                        ? t("none: every booked session's people can be told personally", "无：已预约场次的人员都能收到通知")
                        : t(
                            "\(people) in \(unreached.count) booked session(s); tell them by phone:",
                            "\(unreached.count) 场已预约调解中有 \(people) 人，请电话告知：")
                ))
            for (key, value) in rows { print(padded(key + (Say.zh ? "：" : ":"), 13) + value) }
            for u in unreached {
                for person in u.people {
                    let kind = Say.zh ? Say.word("recipient", person.kind.rawValue) : person.kind.rawValue
                    print(
                        "  " + t("session #\(u.session)", "场次 #\(u.session)")
                            + " \(u.dispute) \(u.start)  \(kind) \(person.name): \(person.why)")
                }
            }
        case .default(let status, let problem):
            throw apiFailure(status, problem)
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the whole store to FILE while mediationd keeps serving (admin).",
        discussion: """
            The daemon takes a consistent copy with SQLite's online backup and checks it with PRAGMA \
            integrity_check. mediationctl writes it to a temporary file beside FILE (mode 0600, readable by you \
            alone: it holds every party's details), flushes it to disk and renames it to FILE only when all of it \
            arrived, so FILE is a whole backup or untouched. Put it back with 'mediationd restore FILE' while the \
            daemon is stopped. 'mediationctl status' shows the last backup.

            Example:
              mediationctl backup --to mediation-$(date +%F).sqlite
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The file to write (its folder must exist).")
    var to: String

    @Flag(name: .long, help: "Replace FILE when it exists already.")
    var force = false

    func validate() throws {
        guard !to.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--to needs a file name, for example --to mediation-backup.sqlite")
        }
    }

    func run() async throws {
        let target = to.hasPrefix("/") ? to : FileManager.default.currentDirectoryPath + "/" + to
        let folder = (target as NSString).deletingLastPathComponent
        var info = stat()
        if stat(target, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR {
                throw CLIFailure.input(
                    "\(to) is a folder; give a file name inside it, for example \(to)/mediation-backup.sqlite")
            }
            if kind != S_IFREG {
                throw CLIFailure.input("\(to) exists and is not a regular file; give the name of a new file")
            }
            if !force {
                throw CLIFailure.input(
                    Say.t(
                        "\(to) exists; give --force to replace it, or another name",
                        "\(to) 已存在：加 --force 覆盖它，或换一个文件名"))
            }
        }
        guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CLIFailure.input(
                Say.t(
                    "the folder \(folder) does not exist; create it first or give another --to",
                    "文件夹 \(folder) 不存在：请先创建，或用 --to 指定别的位置"))
        }
        let scratch = folder + "/." + (target as NSString).lastPathComponent + ".partial-\(getpid())"
        let fd = open(scratch, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CLIFailure(message: "cannot write in \(folder): \(String(cString: strerror(errno)))", exitCode: 1)
        }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(scratch)
        }
        let client = try global.client()
        let output = try await client.call { try await $0.createBackup(query: .init(destination: target)) }
        let expected: Int64?
        let body: HTTPBody
        switch output {
        case .ok(let ok):
            expected = ok.headers.contentLength
            body = try ok.body.binary
        case .default(let status, let problem):
            throw apiFailure(status, problem)
        }
        var written: Int64 = 0
        do {
            for try await chunk in body {
                try writeAll(fd, chunk, file: to, folder: folder)
                written += Int64(chunk.count)
            }
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure(
                message: "the backup stopped after \(written) bytes (\(error)); \(to) was not changed; try again",
                exitCode: 1)
        }
        if let expected, expected != written {
            throw CLIFailure(
                message:
                    "the backup arrived incomplete (\(written) of \(expected) bytes); \(to) was not changed; try again",
                exitCode: 1)
        }
        guard fsync(fd) == 0 else {
            throw CLIFailure(
                message: "cannot flush the backup to disk in \(folder): \(String(cString: strerror(errno))); "
                    + "\(to) was not changed",
                exitCode: 1)
        }
        close(fd)
        closed = true
        guard hasSQLiteHeader(scratch) else {
            throw CLIFailure(
                message: "the daemon sent something that is not an SQLite database; \(to) was not changed", exitCode: 1)
        }
        guard rename(scratch, target) == 0 else {
            throw CLIFailure(
                message: "cannot rename the backup to \(to): \(String(cString: strerror(errno)))", exitCode: 1)
        }
        let dir = open(folder, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        if global.json {
            print("{\"bytes\":\(written),\"file\":\(jsonString(target))}")
        } else {
            print(
                Say.t(
                    "backup written to \(target) (\(byteCount(written)), integrity checked; mode 0600)",
                    "备份已写入 \(target)（\(byteCount(written))，已校验完整；权限 0600）"))
            print(
                Say.t("restore it with: ", "恢复方法（先停止守护进程）：") + "mediationd restore \(target)"
                    + Say.t("   (with the daemon stopped)", ""))
        }
    }

    private func writeAll(_ fd: Int32, _ chunk: ArraySlice<UInt8>, file: String, folder: String) throws {
        var done = 0
        while done < chunk.count {
            let wrote = chunk.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + done }, chunk.count - done)
            }
            guard wrote > 0 else {
                let code = errno
                let why = String(cString: strerror(code))
                let advice =
                    code == ENOSPC || code == EFBIG || code == EDQUOT
                    ? "free space in \(folder) (or choose another place) and retry" : "check \(folder) and retry"
                throw CLIFailure(
                    message: "cannot write the backup: \(why) in \(folder); \(advice); \(file) was not changed",
                    exitCode: 1)
            }
            done += wrote
        }
    }

    private func hasSQLiteHeader(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\u{0}".utf8)
    }
}

/// 1.2 MB, 640 KB, 312 bytes.
func byteCount(_ bytes: Int64) -> String {
    if bytes < 1024 { return "\(bytes) bytes" }
    if bytes < 1024 * 1024 { return String(format: "%.1f KB", Double(bytes) / 1024) }
    return String(format: "%.1f MB", Double(bytes) / 1024 / 1024)
}

/// 2h 5m 3s (2小时5分3秒 for a Chinese reader)
func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.down))
    if Say.zh {
        if s >= 86400 { return "\(s / 86400)天\(s % 86400 / 3600)小时\(s % 3600 / 60)分" }
        return "\(s / 3600)小时\(s % 3600 / 60)分\(s % 60)秒"
    }
    if s >= 86400 { return "\(s / 86400)d \(s % 86400 / 3600)h \(s % 3600 / 60)m" }
    return "\(s / 3600)h \(s % 3600 / 60)m \(s % 60)s"
}

/// `text` padded with spaces to `columns` as a terminal shows it (a Chinese character takes two).
func padded(_ text: String, _ columns: Int) -> String {
    text + String(repeating: " ", count: max(1, columns - displayWidth(text)))
}

private func jsonString(_ text: String) -> String {
    let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
}
