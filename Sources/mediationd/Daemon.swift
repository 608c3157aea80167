import ArgumentParser
import Foundation
import Glibc
import Logging
import MediationCore
import MediationNotify
import MediationServer
import MediationStore
import MediationWeb
import ServiceLifecycle
import Synchronization

@main
struct MediationDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediationd",
        abstract: "The Mediation Coordinator daemon: the expert pool, serving mediationctl over a Unix socket.",
        discussion: """
            With no subcommand it serves. With no --config, runs the embedded default: the database, socket and
            spool live under ./var. Every configuration key can be overridden by an environment variable:
            socket.path is MEDIATIOND_SOCKET_PATH, access.staff_groups is MEDIATIOND_ACCESS_STAFF_GROUPS
            (comma-separated). Config/mediationd.yaml documents every key. SIGTERM or SIGINT stops it gracefully;
            SIGHUP rereads the file (access rules, templates, channels, followups.*, warnings.*).
            'mediationd restore FILE' puts back a backup made by 'mediationctl backup' (the daemon stopped).
            """,
        version: ProductVersion.current,
        subcommands: [Daemon.self, Restore.self],
        defaultSubcommand: Daemon.self)
}

/// Serving: the default subcommand.
struct Daemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve mediationctl on the Unix socket (what mediationd does with no subcommand).",
        discussion: """
            Example: mediationd --config /etc/mediationd/mediationd.yaml
            Every configuration key can be overridden by an environment variable (MEDIATIOND_SOCKET_PATH …).
            """)

    @Option(name: .long, help: "The YAML configuration file (for example /etc/mediationd/mediationd.yaml).")
    var config: String?

    /// For end-to-end tests only (see `FileOffsetClock`): never shown in the help, refused under systemd.
    @Option(name: .customLong("test-clock-file"), help: .private)
    var testClockFile: String?

    /// For `make bench` only: every booking commits alone (its own transaction and fsync), as without group
    /// commit, so the bench can show what group commit saves. Never shown in the help.
    @Flag(name: .customLong("commit-writes-alone"), help: .private)
    var commitWritesAlone = false

    func run() async throws {
        let settings: DaemonConfiguration
        do {
            settings = try await DaemonConfiguration.load(file: config)
        } catch let error as MediationError {
            FileHandle.standardError.write(Data("mediationd: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mediationd")
        let clock: any WallClock
        if let testClockFile {
            let systemd = FileOffsetClock.systemdVariables(ProcessInfo.processInfo.environment)
            guard systemd.isEmpty else {
                FileHandle.standardError.write(
                    Data(
                        ("mediationd: --test-clock-file is for tests only and is refused under systemd ("
                            + systemd.joined(separator: ", ") + " is set); remove it from the command line\n").utf8))
                throw ExitCode(2)
            }
            do {
                let moved = try FileOffsetClock(path: testClockFile)
                logger.warning(
                    "TEST CLOCK: this daemon's clock is moved by --test-clock-file, for tests only; never run it so in production",
                    metadata: ["file": "\(testClockFile)", "offset_seconds": "\(moved.currentOffset)"])
                clock = moved
            } catch let error as MediationError {
                FileHandle.standardError.write(Data("mediationd: \(error.message)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            clock = SystemWallClock()
        }
        do {
            try await serve(settings, clock: clock, logger: logger)
        } catch let error as MediationError {
            logger.critical("cannot start", metadata: ["why": "\(error.message)"])
            FileHandle.standardError.write(Data("mediationd: \(error.message)\n".utf8))
            // A setting to correct is a usage error, as in the configuration itself; the rest (another daemon, a
            // damaged store) is not.
            throw ExitCode(error.kind == .invalidInput ? 2 : 1)
        }
    }

    private func serve(_ settings: DaemonConfiguration, clock: any WallClock, logger: Logger) async throws {
        try SocketGuard.checkGroup(settings.socketGroup)
        try SocketGuard.prepare(settings.socketPath)
        if commitWritesAlone {
            logger.warning("BENCH: --commit-writes-alone commits every booking alone (slower); for make bench only")
        }
        let db = try AppDatabase.open(path: settings.storePath, clock: clock, groupCommit: !commitWritesAlone)
        // A Maildir has its three folders from the start, so that 'ls var/outbox/new' works before the first message.
        for folder in ["tmp", "new", "cur"] {
            try? FileManager.default.createDirectory(
                atPath: (settings.spoolDirectory as NSString).appendingPathComponent(folder),
                withIntermediateDirectories: true)
        }
        let policy = AccessPolicy(rules: settings.access)
        let privacy = PrivacyPolicy()
        settings.privacy.apply(to: privacy)
        warnAboutMissingGroups(policy, logger: logger)
        let notifier = SystemdNotifier()
        let socketPath = settings.socketPath
        let rooms = DaemonRooms(provider: settings.rooms)
        let link = rooms.renderLink
        let templates: NoticeTemplates
        do { templates = try NoticeTemplates.load(directory: settings.notices.templatesDirectory) } catch let e
            as MediationError
        {
            throw MediationError.unavailable(e.message)
        }
        var renderer = NoticeRenderer(settings: settings.notices.settings, templates: templates, link: link)
        if let base = settings.webPublicURL, !db.isReadOnly {
            renderer.personalPages = (base, try await db.personalLinkKey())
        }
        let dispatcher = OutboxDispatcher(
            db: db, renderer: renderer,
            channels: settings.notices.channels(spool: settings.spoolDirectory), retry: settings.notices.retry,
            clock: clock, logger: Logger(label: "mediationd.outbox"),
            journal: db.isReadOnly ? nil : try handOverJournal(db.path))
        logger.info(
            "notices",
            metadata: [
                "templates": "\(templates.source)", "mail": "\(settings.notices.mailTransport)",
                "spool": "\(settings.spoolDirectory)",
            ])
        let monitor = WarningMonitor(
            db: db, settings: settings.outcomes.warnings,
            interval: .seconds(settings.outcomes.checkIntervalMinutes * 60), dispatcher: dispatcher, clock: clock,
            logger: Logger(label: "mediationd.warnings"))
        OperationsMetrics.bootstrap()
        let notices = DaemonNotices(dispatcher: dispatcher, settings: settings.notices, spool: settings.spoolDirectory)
        var info = ServerInfo(
            startedAt: clock.now(), clock: clock, categories: settings.categories, rules: settings.rules, rooms: rooms,
            notices: notices,
            noticeDomain: settings.notices.settings.domain, followUps: settings.outcomes.followUps,
            warnings: DaemonWarnings(monitor: monitor), privacy: privacy)
        info.webBase = settings.webPublicURL
        // Set once the socket accepts: a failure before that is the socket's, and says so.
        let serving = SharedFlag()
        let app = try MediationServer.application(
            socketPath: socketPath, db: db, policy: policy, info: info,
            limits: connectionLimits(settings.limits, logger: logger), logger: logger,
            onReady: {
                serving.withLock { $0 = true }
                umask(0o027)
                do {
                    try SocketGuard.applyPermissions(socketPath, mode: settings.socketMode, group: settings.socketGroup)
                } catch {
                    logger.error("socket permissions not applied", metadata: ["why": "\(error)"])
                }
                notifier.notify("READY=1\nSTATUS=serving \(socketPath)")
                logger.info(
                    "serving",
                    metadata: [
                        "socket": "\(socketPath)", "database": "\(db.path)", "config": "\(settings.source)",
                        "version": "\(ProductVersion.current)", "pid": "\(getpid())",
                    ])
            })
        // A read-only store serves reads; the dispatcher and the warning timer stay off, since neither could
        // record what it did (a message sent but not marked sent would go again and again).
        if let reason = db.readOnlyReason {
            logger.warning(
                "the store is read-only: serving reads only; notices and warnings wait until it is writable and mediationd restarts",
                metadata: ["database": "\(db.path)", "why": "\(reason)"])
        }
        let background: [ServiceGroupConfiguration.ServiceConfiguration] =
            db.isReadOnly
            ? []
            : [
                .init(service: DispatcherService(dispatcher: dispatcher)),
                .init(service: WarningService(monitor: monitor)),
            ]
        var console: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let web = settings.webListen {
            let webLogger = Logger(label: "mediationd.web")
            console.append(
                .init(
                    service: try WebConsole.application(
                        host: web.host, port: web.port, db: db, clock: clock,
                        settings: {
                            var web = WebConsole.Settings(
                                tls: settings.webTLS, categories: settings.categories, rules: settings.rules,
                                rooms: rooms, notices: notices, followUps: settings.outcomes.followUps,
                                privacy: privacy, requireTOTPForAdmins: settings.requireTOTPForAdmins)
                            web.calendarDomain = settings.notices.settings.domain
                            web.publicURL = settings.webPublicURL
                            return web
                        }(),
                        logger: webLogger,
                        onReady: { port in
                            let host = web.host.contains(":") ? "[\(web.host)]" : web.host
                            let scheme = settings.webTLS == nil ? "http" : "https"
                            webLogger.info("web console", metadata: ["address": "\(scheme)://\(host):\(port)/"])
                        })))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)] + console + background + [
                    .init(
                        service: RetentionService(
                            db: db, privacy: privacy, interval: .seconds(settings.privacy.retentionCheckHours * 3600),
                            clock: clock, logger: Logger(label: "mediationd.retention"))),
                    .init(
                        service: ReloadService(
                            file: config, policy: policy, privacy: privacy, dispatcher: dispatcher, link: link,
                            info: info, monitor: monitor, logger: logger)),
                    .init(
                        service: SystemdService(
                            notifier: notifier, watchdog: SystemdNotifier.watchdogInterval(), logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        defer {
            // Closed here rather than left to whoever holds the store last: a task still holding it at exit would
            // leave the log beside the file.
            do { try db.closeConnections() } catch {
                logger.warning("the store was not closed cleanly", metadata: ["why": "\(error)"])
            }
            unlink(socketPath)
            logger.info("stopped", metadata: ["socket": "\(socketPath)"])
        }
        // The socket is born with the configured mode (bind applies the umask), so it is never wider than asked.
        umask(~settings.socketMode & 0o777)
        do { try await group.run() } catch let error as MediationError { throw error } catch {
            guard serving.withLock({ $0 }) else {
                throw MediationError.invalidInput(
                    "could not serve on socket.path \(socketPath): \(error)",
                    hint: "check that its folder is writable for the daemon's user (uid \(geteuid())) and that nothing "
                        + "else is bound there, or set socket.path (MEDIATIOND_SOCKET_PATH) to another place")
            }
            throw error
        }
    }
}

/// A flag shared between the services and the start-up code.
final class SharedFlag: Sendable {
    private let value = Mutex(false)

    func withLock<T>(_ body: (inout Bool) -> T) -> T { value.withLock { body(&$0) } }
}

/// The hand-over journal beside the store (see `HandOverJournal`).
func handOverJournal(_ store: String) throws -> HandOverJournal {
    do { return try HandOverJournal(path: store + "-handover") } catch {
        throw MediationError.unavailable("\(error); check that the store's folder is writable by this daemon's user")
    }
}

/// One line naming every configured group the system lacks: their roles reach nobody until they exist.
func warnAboutMissingGroups(_ policy: AccessPolicy, logger: Logger) {
    let missing = policy.missingGroups
    guard !missing.isEmpty else { return }
    logger.warning(
        """
        configured groups do not exist, so only root and this daemon's user can call; create them to give roles \
        (groupadd, or systemd-sysusers with systemd/sysusers.d/mediationd.conf)
        """,
        metadata: ["groups": "\(missing.joined(separator: ","))"])
}
