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
    /// The problems with the fields a person typed, each in both languages, for a form to show beside its field
    /// and for an answer in the reader's language; empty when the error is not about typed fields.
    public var fields: [FieldProblem]

    public init(_ kind: Kind, _ message: String, details: [String] = [], fields: [FieldProblem] = []) {
        self.kind = kind
        self.message = message
        self.details = details
        self.fields = fields
    }

    /// The message in `language`: the fields' own words when every problem has them, else the English message.
    public func message(in language: Language) -> String {
        guard language == .zh, !fields.isEmpty, fields.count == max(details.count, 1) else { return message }
        return fields.map(\.zh).joined(separator: "；")
    }

    /// The same error with its field names prefixed (`party-2-` + `mobile`), for a form with several of one kind.
    public func prefixingFields(_ prefix: String) -> MediationError {
        var copy = self
        copy.fields = fields.map { FieldProblem(field: prefix + $0.field, en: $0.en, zh: $0.zh) }
        return copy
    }

    public var description: String { message }

    /// Bad input; `hint` says what to do instead.
    public static func invalidInput(_ problem: String, hint: String? = nil, details: [String] = []) -> MediationError {
        MediationError(.invalidInput, hint.map { "\(problem); \($0)" } ?? problem, details: details)
    }

    /// A refusal said in both languages about one field (`general` when it is about the whole form), so a page
    /// shows it beside that field and a Chinese reader of the API or the CLI reads it in Chinese.
    public static func said(_ kind: Kind, field: String = "general", en: String, zh: String) -> MediationError {
        MediationError(kind, en, fields: [FieldProblem(field: field, en: en, zh: zh)])
    }

    public static func notFound(_ message: String) -> MediationError { MediationError(.notFound, message) }
    public static func conflict(_ message: String) -> MediationError { MediationError(.conflict, message) }
    public static func forbidden(_ message: String) -> MediationError { MediationError(.forbidden, message) }
    public static func unavailable(_ message: String) -> MediationError { MediationError(.unavailable, message) }
}

/// A problem with one typed field, in both languages: `field` is the input's key (`title`, `mobile`, `hours` …).
public struct FieldProblem: Sendable, Equatable {
    public var field: String
    public var en: String
    public var zh: String

    public init(field: String, en: String, zh: String) {
        self.field = field
        self.en = en
        self.zh = zh
    }
}

/// Collects validation problems so that a caller sees all of them at once.
public struct Problems: Sendable {
    public private(set) var items: [String] = []
    public private(set) var fields: [FieldProblem] = []
    public init() {}
    public mutating func add(_ message: String) { items.append(message) }
    /// A problem with a typed field, said in both languages.
    public mutating func add(_ problem: FieldProblem) {
        items.append(problem.en)
        fields.append(problem)
    }
    /// Every problem of an error thrown by a rule this one calls.
    public mutating func add(_ error: MediationError) {
        if error.details.isEmpty { items.append(error.message) } else { items += error.details }
        fields += error.fields
    }
    public var isEmpty: Bool { items.isEmpty }

    /// Throws `invalidInput` listing every problem, or returns when there are none.
    public func check(_ subject: String) throws {
        guard !items.isEmpty else { return }
        if items.count == 1 { throw MediationError(.invalidInput, items[0], fields: fields) }
        throw MediationError(
            .invalidInput, "\(subject): \(items.count) problems: " + items.joined(separator: "; "), details: items,
            fields: fields)
    }
}
