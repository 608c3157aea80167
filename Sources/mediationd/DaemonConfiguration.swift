import Configuration
import Foundation
import Glibc
import MediationCore
import MediationNotify
import MediationServer
import SystemPackage

/// Everything the daemon reads at start, from the YAML file and `MEDIATIOND_*` environment variables.
struct DaemonConfiguration: Sendable {
    var socketPath: String
    var socketMode: mode_t
    var socketGroup: String?
    /// Connections, timeouts and body size (`socket.max_connections`, `socket.*_timeout_seconds`,
    /// `socket.max_body_kib`).
    var limits: ServerLimits
    var storePath: String
    var spoolDirectory: String
    var access: AccessRules
    var logLevel: String
    var categories: [String]
    var rules: SchedulingRules
    var rooms: VideoRoomProvider
    var notices: NoticeConfiguration
    /// Follow-up visits and early warnings (`followups.*`, `warnings.*`).
    var outcomes: OutcomeConfiguration
    /// Who may reveal parties' numbers and how long they are kept (`privacy.*`).
    var privacy: PrivacyConfiguration
    /// The web console's address (`web.listen`, host and port); nil when it is off.
    var webListen: (host: String, port: Int)?
    /// The console's certificate and key files (`web.tls.*`); nil for plain HTTP.
    var webTLS: (certificate: String, key: String)?
    /// Whether admins sign in to the console with an authenticator code too (`web.require_totp_for_admins`).
    var requireTOTPForAdmins: Bool
    /// Where people reach the web listener (`web.public_url`, for the addresses handed out: calendar feeds); by
    /// default the `web.listen` address itself. Nil when the listener is off.
    var webPublicURL: String? = nil
    /// Where the values came from, for the start-up log line.
    var source: String

    /// Reads the file (if any) under the environment; environment variables win.
    ///
    /// - Throws: `invalidInput` naming the key and the accepted values.
    static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> DaemonConfiguration
    {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "mediationd")
        ]
        if let file {
            let text = try readFile(file)
            try ConfigurationSchema.check(yaml: text, file: file)
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw MediationError.invalidInput("configuration file \(file) is not valid YAML: \(error)")
            }
        }
        let unknownVariables = ConfigurationSchema.unknownEnvironment(environment)
        guard unknownVariables.isEmpty else {
            throw MediationError.invalidInput(
                "unknown environment variable \(unknownVariables.joined(separator: ", "))",
                hint: "the daemon reads " + ConfigurationSchema.environmentNames.joined(separator: ", "))
        }
        let c = ConfigReader(providers: providers)
        let modeText = c.string(forKey: "socket.mode", default: "0660")
        guard let mode = mode_t(modeText, radix: 8), mode <= 0o777 else {
            throw MediationError.invalidInput(
                "socket.mode '\(modeText)' is not an octal mode", hint: "write for example 0660")
        }
        let limits = ServerLimits(
            maxBodyBytes: try c.wholeNumber("socket.max_body_kib", default: 1024, in: 1...1_048_576, unit: "KiB")
                * 1024,
            maxConnections: try c.wholeNumber(
                "socket.max_connections", default: 256, in: 1...100_000, unit: "connections"),
            maxConnectionsPerUID: try c.wholeNumber(
                "socket.max_connections_per_uid", default: 32, in: 1...100_000, unit: "connections"),
            idleTimeout: .seconds(
                try c.wholeNumber("socket.idle_timeout_seconds", default: 60, in: 1...86400, unit: "seconds")),
            headerTimeout: .seconds(
                try c.wholeNumber("socket.header_timeout_seconds", default: 10, in: 1...3600, unit: "seconds")),
            bodyTimeout: .seconds(
                try c.wholeNumber("socket.body_timeout_seconds", default: 30, in: 1...3600, unit: "seconds")))
        let level = c.string(forKey: "log.level", default: "info")
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw MediationError.invalidInput(
                "log.level '\(level)' is unknown", hint: "use trace, debug, info, notice, warning, error or critical")
        }
        let categories = Tag.normalize(c.stringArray(forKey: "disputes.categories", default: Dispute.defaultCategories))
        guard !categories.isEmpty else {
            throw MediationError.invalidInput("disputes.categories is empty; list at least one category")
        }
        var holidays: [LocalDate] = []
        for text in c.stringArray(forKey: "scheduling.holidays", default: []) {
            guard let date = LocalDate(parsing: text) else {
                throw MediationError.invalidInput("scheduling.holidays: '\(text)' is not a date like 2026-10-01")
            }
            holidays.append(date)
        }
        let riskText = c.string(forKey: "panels.legal_officer_from_risk", default: "high")
        let risk = RiskLevel(parsing: riskText)
        guard risk != nil || riskText.lowercased() == "none" else {
            throw MediationError.invalidInput(
                "panels.legal_officer_from_risk '\(riskText)' is unknown",
                hint: "use low, medium, high, critical or none")
        }
        var byCategory: [String: String] = [:]
        for entry in c.stringArray(forKey: "panels.by_category", default: []) {
            let parts = entry.split(separator: "=", maxSplits: 1).map {
                $0.trimmingWhitespace().lowercased()
            }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw MediationError.invalidInput(
                    "panels.by_category: '\(entry)' is not category=policy", hint: "write for example property=property"
                )
            }
            byCategory[parts[0]] = parts[1]
        }
        let notices = try NoticeConfiguration.read(c)
        var rules = SchedulingRules(
            minimumNoticeMinutes: try c.wholeNumber(
                "scheduling.minimum_notice_minutes", default: 120, in: 0...43200, unit: "minutes"),
            bufferMinutes: try c.wholeNumber("scheduling.buffer_minutes", default: 30, in: 0...1440, unit: "minutes"),
            holidays: holidays,
            legalOfficerFromRisk: risk,
            defaultPolicy: c.string(forKey: "panels.default", default: "standard").lowercased(),
            policyByCategory: byCategory)
        rules.reminderOffsetsMinutes = notices.reminders
        rules.startMarginMinutes = try c.wholeNumber(
            "scheduling.start_margin_minutes", default: 30, in: 0...1440, unit: "minutes")
        let rooms: VideoRoomProvider
        switch c.string(forKey: "rooms.provider", default: "none").lowercased() {
        case "none": rooms = .none
        case "template":
            rooms = .template(c.string(forKey: "rooms.template", default: ""))
        case "jitsi":
            rooms = .jitsi(
                JitsiSettings(
                    domain: c.string(forKey: "rooms.jitsi.domain", default: ""),
                    appId: c.string(forKey: "rooms.jitsi.app_id", default: ""),
                    audience: c.string(forKey: "rooms.jitsi.audience", default: "jitsi"),
                    secret: try VideoRooms.loadSecret(
                        inline: c.string(forKey: "rooms.jitsi.secret", isSecret: true),
                        file: c.string(forKey: "rooms.jitsi.secret_file"))))
        case let other:
            throw MediationError.invalidInput(
                "rooms.provider '\(other)' is unknown", hint: "use none, jitsi or template")
        }
        try VideoRooms.validate(rooms)
        func groups(_ key: String, _ fallback: String) -> [String] {
            c.stringArray(forKey: ConfigKey(key), default: [fallback]).filter { !$0.isEmpty }
        }
        // The console is on by default only for the embedded default (make run), on loopback; a production file turns
        // it on by naming an address.
        let webListen = try webAddress(c.string(forKey: "web.listen", default: file == nil ? "127.0.0.1:8080" : ""))
        let webTLS: (certificate: String, key: String)?
        switch (
            Text.nonEmpty(c.string(forKey: "web.tls.certificate")), Text.nonEmpty(c.string(forKey: "web.tls.key"))
        ) {
        case (nil, nil): webTLS = nil
        case (let certificate?, let key?): webTLS = (certificate, key)
        default:
            throw MediationError.invalidInput(
                "web.tls.certificate and web.tls.key go together: one is set without the other",
                hint: "set both (PEM files), or neither for plain HTTP")
        }
        if notices.sms != nil && webListen == nil {
            throw MediationError.invalidInput(
                "sms.provider is set but web.listen is off: an SMS carries no free text, only the person's own page "
                    + "(/p/…), which the web listener serves",
                hint: "set web.listen (and web.public_url, the address phones open), or remove sms.provider")
        }
        if notices.sms != nil && Text.nonEmpty(c.string(forKey: "web.public_url")) == nil {
            throw MediationError.invalidInput(
                "sms.provider is set but web.public_url is not: every SMS links the person's page, and a phone "
                    + "cannot open the listener's own address (\(c.string(forKey: "web.listen", default: "")))",
                hint: "set web.public_url to the address phones open, such as https://mediation.example.gov.cn")
        }
        let totpText = c.string(forKey: "web.require_totp_for_admins", default: "false").lowercased()
        guard ["true", "false", "yes", "no"].contains(totpText) else {
            throw MediationError.invalidInput(
                "web.require_totp_for_admins '\(totpText)' is not true or false",
                hint: "true makes every admin turn on two-step sign-in (an authenticator app) at the next sign-in")
        }
        return DaemonConfiguration(
            socketPath: c.string(forKey: "socket.path", default: "./var/api.sock"),
            socketMode: mode,
            socketGroup: Text.nonEmpty(c.string(forKey: "socket.group")),
            limits: limits,
            storePath: c.string(forKey: "store.path", default: "./var/mediation.sqlite"),
            spoolDirectory: c.string(forKey: "spool.directory", default: "./var/outbox"),
            access: AccessRules(
                adminGroups: groups("access.admin_groups", "mediation-admin"),
                staffGroups: groups("access.staff_groups", "mediation-staff"),
                viewerGroups: groups("access.viewer_groups", "mediation-viewer")),
            logLevel: level,
            categories: categories,
            rules: rules,
            rooms: rooms,
            notices: notices,
            outcomes: try OutcomeConfiguration.read(c),
            privacy: try PrivacyConfiguration.read(c),
            webListen: webListen,
            webTLS: webTLS,
            requireTOTPForAdmins: ["true", "yes"].contains(totpText),
            webPublicURL: try webListen.map { listen in
                if let url = Text.nonEmpty(c.string(forKey: "web.public_url")) {
                    guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                        throw MediationError.invalidInput(
                            "web.public_url '\(url)' is not an http:// or https:// address",
                            hint: "give the address people open, such as https://mediation.example.gov.cn")
                    }
                    return url.hasSuffix("/") ? String(url.dropLast()) : url
                }
                let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
                return (webTLS == nil ? "http://" : "https://") + host + ":\(listen.port)"
            },
            source: file ?? "embedded default")
    }

    /// `web.listen` as host and port: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:8443`; empty or `off` for none.
    ///
    /// - Throws: `invalidInput` naming the key and showing the form.
    static func webAddress(_ text: String) throws -> (host: String, port: Int)? {
        let t = text.trimmingWhitespace()
        guard !t.isEmpty, t.lowercased() != "off" else { return nil }
        let refusal = MediationError.invalidInput(
            "web.listen '\(text)' is not a host and port",
            hint: "write for example 127.0.0.1:8080 (MEDIATIOND_WEB_LISTEN), or leave it out to serve no console")
        guard let colon = t.lastIndex(of: ":"), let port = Int(t[t.index(after: colon)...]), (0...65535).contains(port)
        else { throw refusal }
        var host = String(t[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { throw refusal }
        return (host, port)
    }
}

extension DaemonConfiguration {
    /// The text of the configuration file.
    ///
    /// - Throws: `invalidInput` naming the file, what is wrong with it (missing, a folder, unreadable by the
    ///   daemon's user, not UTF-8) and what to do.
    static func readFile(_ file: String) throws -> String {
        var info = stat()
        guard stat(file, &info) == 0 else {
            guard errno == ENOENT else { throw unreadable(file) }
            throw MediationError.invalidInput(
                "configuration file \(file) does not exist",
                hint: "give the right --config path, or leave --config out to use ./var")
        }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw MediationError.invalidInput(
                "configuration file \(file) is a folder",
                hint: "give --config the YAML file itself, for example \(file)/mediationd.yaml")
        }
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw unreadable(file) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let data: Data
        do { data = try handle.readToEnd() ?? Data() } catch {
            throw MediationError.invalidInput(
                "configuration file \(file) cannot be read: \(error.localizedDescription)",
                hint: "check the file and the disk it is on, or give --config another copy")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MediationError.invalidInput(
                "configuration file \(file) is not UTF-8 text",
                hint: "save it as UTF-8 (iconv -f GBK -t UTF-8 converts a GBK file)")
        }
        return text
    }

    /// The error for a file the daemon's user may not read, with `errno` saying why.
    private static func unreadable(_ file: String) -> MediationError {
        MediationError.invalidInput(
            "configuration file \(file) cannot be read by the daemon's user (uid \(geteuid())): "
                + String(cString: strerror(errno)),
            hint: "let that user read it and its folders (for example chgrp mediationd \(file) && chmod 0640 \(file)), "
                + "or give --config a file it can read")
    }
}

extension ConfigReader {
    /// The whole number at `key` (`fallback` when the key is absent), which must lie in `range`.
    ///
    /// - Throws: `invalidInput` saying, for example, "socket.max_connections 'many' is not a whole number of
    ///   connections from 1 to 100000".
    func wholeNumber(_ key: String, default fallback: Int, in range: ClosedRange<Int>, unit: String? = nil) throws
        -> Int
    {
        let text = string(forKey: ConfigKey(key), default: String(fallback))
        guard let n = Int(text.trimmingWhitespace()), range.contains(n) else {
            throw MediationError.invalidInput(
                "\(key) '\(text)' is not a whole number\(unit.map { " of \($0)" } ?? "") from \(range.lowerBound) to "
                    + "\(range.upperBound)")
        }
        return n
    }
}
