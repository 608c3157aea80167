import Foundation

/// The one error type the domain throws; the server maps `kind` to an HTTP status in one place.
///
/// For example:
/// ```swift
/// throw MediationError.invalidInput("time zone 'Asia/Shangai' is unknown", hint: "use an IANA name such as Asia/Shanghai")
/// ```
public struct MediationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The classes of failure named in the architecture.
    public enum Kind: String, Sendable, Equatable {
        case invalidInput = "invalid_input"
        case notFound = "not_found"
        case conflict = "conflict"
        case forbidden = "forbidden"
        case unavailable = "unavailable"
        case payloadTooLarge = "payload_too_large"
    }

    public var kind: Kind
    /// What was wrong and what to do, in one or two sentences.
    public var message: String
    /// One line per individual problem (for example one per CSV line).
    public var details: [String]

    public init(_ kind: Kind, _ message: String, details: [String] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { message }

    /// Bad input; `hint` says what to do instead.
    public static func invalidInput(_ problem: String, hint: String? = nil, details: [String] = []) -> MediationError {
        MediationError(.invalidInput, hint.map { "\(problem); \($0)" } ?? problem, details: details)
    }

    public static func notFound(_ message: String) -> MediationError { MediationError(.notFound, message) }
    public static func conflict(_ message: String) -> MediationError { MediationError(.conflict, message) }
    public static func forbidden(_ message: String) -> MediationError { MediationError(.forbidden, message) }
    public static func unavailable(_ message: String) -> MediationError { MediationError(.unavailable, message) }
}

/// Collects validation problems so that a caller sees all of them at once.
public struct Problems: Sendable {
    public private(set) var items: [String] = []
    public init() {}
    public mutating func add(_ message: String) { items.append(message) }
    public var isEmpty: Bool { items.isEmpty }

    /// Throws `invalidInput` listing every problem, or returns when there are none.
    public func check(_ subject: String) throws {
        guard !items.isEmpty else { return }
        if items.count == 1 { throw MediationError.invalidInput(items[0]) }
        throw MediationError(
            .invalidInput, "\(subject): \(items.count) problems: " + items.joined(separator: "; "), details: items)
    }
}
