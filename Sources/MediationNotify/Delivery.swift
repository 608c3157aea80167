import Foundation
import MediationCore

/// What one attempt to deliver one message came to. The dispatcher retries `transient` with backoff and moves a
/// message that keeps failing to `dead`; `permanent` goes to `dead` at once (an SMTP 5xx, a webhook 4xx).
public enum DeliveryResult: Sendable, Equatable {
    /// Taken; `receipt` names the message at an SMS gateway, to fetch its delivery receipt later.
    case sent(detail: String, receipt: ReceiptTicket? = nil)
    case transient(String)
    case permanent(String)

    /// The text stored with the attempt.
    public var detail: String {
        switch self {
        case .sent(let d, _), .transient(let d), .permanent(let d): d
        }
    }

    public var isSent: Bool { if case .sent = self { true } else { false } }
}

/// A mail address with an optional display name (UTF-8; encoded per RFC 2047 in headers).
public struct MailAddress: Sendable, Equatable, Hashable {
    public var name: String?
    public var address: String

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}
