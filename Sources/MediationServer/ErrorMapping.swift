import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MediationCore
import MediationStore
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// The one place where errors become HTTP responses: `{"error": {"code", "message", "details"}}`.
enum ErrorMapping {
    struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var details: [String]
        }
        var error: Inner
    }

    /// The methods each resource path answers, for the 405 answer; a test keeps it equal to openapi.yaml.
    static let routes: [(path: String, methods: [String])] = [
        ("/v1/health", ["GET"]), ("/v1/openapi.yaml", ["GET"]),
        ("/v1/status", ["GET"]), ("/v1/metrics", ["GET"]), ("/v1/backup", ["POST"]),
        ("/v1/offices", ["GET", "POST"]),
        ("/v1/offices/{office}", ["GET", "PATCH"]), ("/v1/experts", ["GET", "POST"]),
        ("/v1/experts/import", ["POST"]), ("/v1/experts/export", ["GET"]), ("/v1/experts/{expert}", ["GET", "PATCH"]),
        ("/v1/experts/{expert}/deactivate", ["POST"]), ("/v1/experts/{expert}/reactivate", ["POST"]),
        ("/v1/experts/{expert}/time-off", ["GET", "POST"]), ("/v1/experts/{expert}/time-off/{span}", ["DELETE"]),
        ("/v1/experts/{expert}/extra-availability", ["GET", "POST"]),
        ("/v1/experts/{expert}/extra-availability/{span}", ["DELETE"]),
        ("/v1/experts/{expert}/availability", ["GET"]), ("/v1/disputes", ["GET", "POST"]),
        ("/v1/disputes/{dispute}", ["GET", "PATCH"]), ("/v1/disputes/{dispute}/risk", ["POST"]),
        ("/v1/disputes/{dispute}/close", ["POST"]), ("/v1/disputes/{dispute}/reopen", ["POST"]),
        ("/v1/disputes/{dispute}/parties", ["POST"]), ("/v1/disputes/{dispute}/parties/{party}", ["PATCH", "DELETE"]),
        ("/v1/conflicts", ["GET", "POST"]), ("/v1/conflicts/{conflict}", ["DELETE"]), ("/v1/policies", ["GET"]),
        ("/v1/policies/{policy}", ["GET", "PUT"]),
        ("/v1/disputes/{dispute}/slots", ["POST"]), ("/v1/sessions", ["GET", "POST"]),
        ("/v1/sessions/{session}", ["GET"]),
        ("/v1/sessions/{session}/reschedule", ["POST"]), ("/v1/sessions/{session}/cancel", ["POST"]),
        ("/v1/sessions/{session}/status", ["POST"]), ("/v1/sessions/{session}/rsvp", ["POST"]),
        ("/v1/sessions/{session}/substitutes", ["GET"]),
        ("/v1/sessions/{session}/links", ["GET"]), ("/v1/sessions/{session}/replace", ["POST"]),
        ("/v1/outbox", ["GET"]), ("/v1/outbox/retry-dead", ["POST"]), ("/v1/outbox/{message}", ["GET"]),
        ("/v1/outbox/{message}/retry", ["POST"]), ("/v1/sessions/{session}/preview", ["GET"]),
        ("/v1/channels/{channel}/test", ["POST"]), ("/v1/sessions/{session}/outcome", ["GET", "POST", "PATCH"]),
        ("/v1/sessions/{session}/outcome/void", ["POST"]),
        ("/v1/followups", ["GET"]), ("/v1/followups/{followup}/result", ["POST"]),
        ("/v1/disputes/{dispute}/escalations", ["GET", "POST"]), ("/v1/escalations", ["GET"]),
        ("/v1/warnings", ["GET"]), ("/v1/warnings/check", ["POST"]), ("/v1/reports/weekly", ["GET"]),
        ("/v1/reports/outcomes", ["GET"]), ("/v1/reports/experts", ["GET"]), ("/v1/export/{kind}", ["GET"]),
        ("/v1/audit", ["GET"]), ("/v1/retention/run", ["POST"]),
    ]

    /// The methods allowed on a concrete path, most specific pattern first ("import" before "{expert}").
    static func allowedMethods(_ path: String) -> [String]? {
        let parts = path.split(separator: "/")
        let candidates = routes.filter { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == parts.count
                && zip(pattern, parts).allSatisfy { p, s in p == s || (p.hasPrefix("{") && p.hasSuffix("}")) }
        }
        let exact = candidates.min { a, b in a.path.filter { $0 == "{" }.count < b.path.filter { $0 == "{" }.count }
        return exact?.methods
    }

    /// Every resource path the API serves, for the 404 answer.
    static let resourcePaths = routes.map(\.path)

    static func status(_ kind: MediationError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .forbidden: .forbidden
        case .unavailable: .serviceUnavailable
        case .payloadTooLarge: .contentTooLarge
        }
    }

    /// The 413 answer's error, naming the limit.
    static func tooLarge(_ maxBodyBytes: Int) -> MediationError {
        MediationError(
            .payloadTooLarge,
            "the request body is larger than \(maxBodyBytes / 1024) KiB (socket.max_body_kib); send less "
                + "(split a roster into parts)")
    }

    /// Classifies any error thrown while serving `request`.
    static func classify(_ error: any Error, request: Request, maxBodyBytes: Int = ServerLimits().maxBodyBytes)
        -> (HTTPResponse.Status, String, MediationError?)
    {
        if clientWentAway(error) {
            // Nobody reads this answer; it keeps the request out of the internal errors.
            return (
                .badRequest, "invalid_input",
                .invalidInput("the request ended before its body was complete", hint: "send each request whole")
            )
        }
        switch error {
        case let e as MediationError:
            return (status(e.kind), e.kind.rawValue, e)
        case let e as ServerError:
            if let inner = e.underlyingError as? MediationError {
                return classify(inner, request: request, maxBodyBytes: maxBodyBytes)
            }
            if let inner = e.underlyingError as? HTTPError {
                return classify(inner, request: request, maxBodyBytes: maxBodyBytes)
            }
            if e.underlyingError is NIOTooManyBytesError {
                return classify(e.underlyingError, request: request, maxBodyBytes: maxBodyBytes)
            }
            if e.operationInput == nil {
                // Failed while reading the request: the caller sent something the contract does not allow.
                let why = describe(e.underlyingError, request: request, operation: e.operationID)
                return (
                    .badRequest, "invalid_input",
                    .invalidInput(
                        "the request could not be read: \(why)", hint: "see GET /v1/openapi.yaml for the format")
                )
            }
            return (.internalServerError, "internal", nil)
        case let e as HTTPError:
            switch e.status {
            case .notFound:
                if let allowed = allowedMethods(request.uri.path), !allowed.contains(request.method.rawValue) {
                    return (
                        .methodNotAllowed, "method_not_allowed",
                        MediationError(
                            .invalidInput,
                            "\(request.method.rawValue) is not allowed on \(request.uri.path); it answers "
                                + allowed.joined(separator: ", "),
                            details: allowed)
                    )
                }
                return (
                    .notFound, "not_found",
                    MediationError(
                        .notFound,
                        "no resource at \(request.method.rawValue) \(request.uri.path); the API serves: "
                            + resourcePaths.joined(separator: ", "),
                        details: resourcePaths)
                )
            case .contentTooLarge:
                return (.contentTooLarge, "payload_too_large", tooLarge(maxBodyBytes))
            case .methodNotAllowed:
                return (
                    .methodNotAllowed, "invalid_input",
                    .invalidInput("\(request.method.rawValue) is not allowed on \(request.uri.path)")
                )
            default:
                if e.status.kind == .clientError {
                    return (e.status, "invalid_input", .invalidInput(e.body ?? e.status.reasonPhrase))
                }
                return (.internalServerError, "internal", nil)
            }
        case is NIOTooManyBytesError:
            // A chunked body that grew past the limit while being collected.
            return classify(HTTPError(.contentTooLarge), request: request, maxBodyBytes: maxBodyBytes)
        case let e as HTTPParserError:
            // A body that is not well-formed HTTP (a bad chunk size): the caller's doing.
            return (
                .badRequest, "invalid_input",
                .invalidInput("the request is not well-formed HTTP (\(e))", hint: "send each request whole")
            )
        case let e as DecodingError:
            return (.badRequest, "invalid_input", .invalidInput("the request could not be read: \(describe(e))"))
        default:
            return (.internalServerError, "internal", nil)
        }
    }

    /// True when the error says the client hung up (or its connection broke) before its request was read whole:
    /// nothing went wrong in the daemon, and nobody is left to read an answer.
    static func clientWentAway(_ error: any Error) -> Bool {
        switch error {
        case let e as ServerError: return clientWentAway(e.underlyingError)
        case let e as HTTPParserError: return e == .invalidEOFState
        case let e as ChannelError:
            return [.ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed].contains(e)
        case let e as IOError: return [ECONNRESET, EPIPE].contains(e.errnoCode)
        default: return false
        }
    }

    /// A person-readable account of a decoding failure, naming the field, or the parameters when the
    /// failure was in the path or the query (the runtime's parameter decoder does not name them).
    static func describe(_ error: any Error, request: Request, operation: String) -> String {
        if let d = error as? DecodingError {
            let context: DecodingError.Context?
            switch d {
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
            case .keyNotFound: context = nil
            @unknown default: context = nil
            }
            if let context, context.codingPath.isEmpty,
                context.debugDescription.hasPrefix("Failed to convert")
                    || context.debugDescription == "Value not found."
            {
                let query = request.uri.query.map { "?\($0)" } ?? ""
                if case .valueNotFound = d {
                    return "a required parameter of \(operation) is missing or empty in \(request.uri.path)\(query)"
                }
                if case .typeMismatch(let type, _) = d {
                    return "a parameter in \(request.uri.path)\(query) should be \(typeName(type))"
                        + (typeName(type) == "a number" ? " (a whole number within range)" : "")
                }
            }
            if let context, context.codingPath.isEmpty, case .typeMismatch(let type, _) = d,
                String(describing: type).contains("Dictionary")
            {
                return "the body should be a JSON object"
            }
        }
        return describe(error)
    }

    /// A person-readable account of a decoding failure, naming the field.
    static func describe(_ error: any Error) -> String {
        guard let d = error as? DecodingError else {
            let text = String(describing: error)
            if text.contains("Unexpected content type") {
                return "the body must be JSON, sent with the header Content-Type: application/json"
            }
            return text.count > 300 ? String(text.prefix(300)) + "…" : text
        }
        func path(_ keys: [any CodingKey]) -> String {
            // An array's keys say "Index 3" where they carry no integer.
            func index(_ key: any CodingKey) -> Int? {
                key.intValue ?? (key.stringValue.hasPrefix("Index ") ? Int(key.stringValue.dropFirst(6)) : nil)
            }
            let p = keys.map { key in index(key).map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return p.isEmpty ? "the body" : "field '\(p.dropFirst(p.hasPrefix(".") ? 1 : 0))'"
        }
        switch d {
        case .typeMismatch(let type, let c): return "\(path(c.codingPath)) should be \(typeName(type))"
        case .valueNotFound(let type, let c): return "\(path(c.codingPath)) is missing (expected \(typeName(type)))"
        case .keyNotFound(let key, let c):
            return "required \(path(c.codingPath + [key])) is missing"
        case .dataCorrupted(let c):
            let underlying = (c.underlyingError as? NSError)?.localizedDescription
            if c.codingPath.isEmpty, c.debugDescription.contains("JSON") || underlying != nil {
                // The decoder says the same of a fraction where a count belongs (a scale of 1.5).
                return "the body is not valid JSON (check quotes and commas), or a count in it (such as scale) "
                    + "is not a whole number that fits in 64 bits"
            }
            if c.debugDescription.contains("Additional properties") {
                return "\(path(c.codingPath)) is not a known field; remove it or check its spelling"
            }
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(d)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.contains("String") { return "a string" }
        if name.contains("Int") || name.contains("Double") { return "a number" }
        if name.contains("Bool") { return "true or false" }
        if name.contains("Array") { return "a list" }
        if name.contains("Dictionary") || name.contains("Payload") || name.contains("Schemas") { return "an object" }
        return name
    }

    /// The JSON error body: `{"error": {"code", "message", "details"}}`.
    static func body(code: String, message: String, details: [String]) -> Data {
        let body = Body(error: .init(code: code, message: message, details: details))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(body))
            ?? Data("{\"error\":{\"code\":\"internal\",\"message\":\"\",\"details\":[]}}".utf8)
    }

    static func response(status: HTTPResponse.Status, code: String, message: String, details: [String]) -> Response {
        let data = body(code: code, message: message, details: details)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into the JSON error body; logs what is unexpected.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    var limits = ServerLimits()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if ErrorMapping.clientWentAway(error) {
                // A client that gives up (Ctrl-C, a timeout of its own) is routine, not a failure of the daemon.
                context.logger.debug(
                    "the connection closed before its request was read whole (the client hung up, or a socket.* timeout cut it off)",
                    metadata: ["path": "\(request.uri.path)", "why": "\(error)"])
            }
            let (status, code, mapped) = ErrorMapping.classify(
                error, request: request, maxBodyBytes: limits.maxBodyBytes)
            if let mapped {
                if status == .forbidden || status == .contentTooLarge {
                    context.logger.notice(
                        "refused", metadata: ["path": "\(request.uri.path)", "why": "\(mapped.message)"])
                }
                return ErrorMapping.response(
                    status: status, code: code, message: mapped.message, details: mapped.details)
            }
            context.logger.error(
                "internal error", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return ErrorMapping.response(
                status: .internalServerError, code: "internal",
                message: "the daemon failed while handling this request; this is a bug: its log has the details",
                details: [])
        }
    }
}

/// Refuses browsers and unknown callers, checks the role a route needs, caps the body size, and refuses JSON
/// that is not UTF-8 or nests too deep before a decoder sees it.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy
    var limits = ServerLimits()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.headers[.origin] != nil || request.headers[.referer] != nil {
            throw MediationError.forbidden(
                "requests from web pages are refused (Origin or Referer header present); use mediationctl or curl --unix-socket"
            )
        }
        guard let value = request.headers[PeerCredentials.headerName], let creds = PeerCredentials(headerValue: value)
        else {
            throw MediationError.forbidden("the caller's credentials could not be read; connect over the Unix socket")
        }
        let caller = try policy.authorize(creds)
        let needed = AccessPolicy.requiredRole(method: request.method.rawValue, path: request.uri.path)
        guard caller.role >= needed else {
            throw MediationError.forbidden(
                "\(request.method.rawValue) \(request.uri.path) needs the \(needed.rawValue) role; "
                    + "uid \(creds.uid)\(caller.user.map { " (\($0))" } ?? "") is \(caller.role.rawValue). "
                    + "Ask an administrator to add the user to one of: \(groups(for: needed))")
        }
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.maxBodyBytes {
            throw ErrorMapping.tooLarge(limits.maxBodyBytes)
        }
        if request.method != .get && request.method != .head {
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: limits.maxBodyBytes) } catch is NIOTooManyBytesError {
                throw ErrorMapping.tooLarge(limits.maxBodyBytes)
            }
            if let type = request.headers[.contentType], type.lowercased().contains("json"),
                let problem = JSONShape.problem(body.readableBytesView, maxDepth: ServerLimits.maxJSONDepth)
            {
                throw MediationError.invalidInput("the request body is not acceptable JSON: \(problem)")
            }
        }
        // The store records every change it makes for this request in the audit trail, under this actor.
        let actor = AuditActor(uid: creds.uid, user: caller.user, role: caller.role.rawValue)
        return try await Caller.$current.withValue(caller) {
            try await AuditActor.$current.withValue(actor) { try await next(request, context) }
        }
    }

    private func groups(for role: Role) -> String {
        let r = policy.rules
        let names: [String]
        switch role {
        case .admin: names = r.adminGroups
        case .staff: names = r.adminGroups + r.staffGroups
        case .viewer: names = r.adminGroups + r.staffGroups + r.viewerGroups
        }
        return names.isEmpty ? "(no groups configured)" : names.joined(separator: ", ")
    }
}
