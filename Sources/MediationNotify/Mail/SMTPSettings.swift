import Foundation

/// How to reach the outgoing mail server.
///
/// For example, a submission port with STARTTLS and a login:
/// ```swift
/// let settings = SMTPSettings(
///     host: "smtp.example.org", port: 587, security: .starttls,
///     username: "notices@example.org", password: secret)
/// ```
public struct SMTPSettings: Sendable, Equatable {
    /// How the connection is protected.
    public enum Security: String, Sendable {
        /// Plain TCP, upgraded with STARTTLS before anything else is said (usually port 587 or 25). A server that
        /// does not offer STARTTLS is refused: nothing is sent in the clear.
        case starttls
        /// TLS from the first byte ("implicit TLS", usually port 465).
        case tls
        /// No encryption at all. Only for a relay on the same host or a trusted network; credentials, when given,
        /// then travel in the clear, and each result says so.
        case none
    }

    /// Host name (or IP address) of the server; TLS certificates are checked against it.
    public var host: String
    /// TCP port: 587 for STARTTLS submission, 465 for implicit TLS, 25 for relay.
    public var port: Int
    /// How the connection is protected.
    public var security: Security
    /// The login; AUTH (PLAIN, else LOGIN) is used exactly when this is set.
    public var username: String?
    /// The password for `username`.
    public var password: String?
    /// A PEM bundle of certificates to trust instead of the system's (for a private CA or a self-signed server).
    public var caFile: String?
    /// Whether the server's certificate chain and name are checked. Turn off only for testing.
    public var verifyCertificates: Bool
    /// The name this client gives in EHLO.
    public var heloName: String
    /// The limit for connecting and for each reply of the server.
    public var timeoutSeconds: Int

    public init(
        host: String, port: Int = 587, security: Security = .starttls, username: String? = nil,
        password: String? = nil, caFile: String? = nil, verifyCertificates: Bool = true,
        heloName: String = "localhost", timeoutSeconds: Int = 30
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
        self.verifyCertificates = verifyCertificates
        self.heloName = heloName
        self.timeoutSeconds = timeoutSeconds
    }
}

extension SMTPSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the password, so that settings printed into a log do not leak it.
    public var description: String {
        "SMTPSettings(host: \(host), port: \(port), security: \(security.rawValue), "
            + "username: \(username ?? "<none>"), password: \(password == nil ? "<none>" : "<redacted>"), "
            + "caFile: \(caFile ?? "<system>"), verifyCertificates: \(verifyCertificates), heloName: \(heloName), "
            + "timeoutSeconds: \(timeoutSeconds))"
    }
    public var debugDescription: String { description }
}

/// The configuration keys named in error messages, kept in one place so that messages follow the configuration file.
enum SMTPSettingName {
    static let host = "smtp.host"
    static let port = "smtp.port"
    static let security = "smtp.security"
    static let username = "smtp.username"
    static let password = "smtp.password"
    static let caFile = "smtp.ca_file"
    static let verifyCertificates = "smtp.verify_certificates"
    static let heloName = "smtp.helo"
    static let timeout = "smtp.timeout_seconds"
}
