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

    /// Classifies any error thrown while serving `request`; `routes` names the paths and methods the router serves.
    static func classify(
        _ error: any Error, request: Request, routes: RouteTable, maxBodyBytes: Int = ServerLimits().maxBodyBytes
    ) -> (HTTPResponse.Status, String, MediationError?) {
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
                // The request read well against the contract (ContractValidator and the decoder passed it) and a
                // rule the contract cannot state refused it: 422, so that 400 always means "see openapi.yaml".
                if inner.kind == .invalidInput, e.operationInput != nil {
                    return (.unprocessableContent, inner.kind.rawValue, inner)
                }
                return classify(inner, request: request, routes: routes, maxBodyBytes: maxBodyBytes)
            }
            if let inner = e.underlyingError as? HTTPError {
                return classify(inner, request: request, routes: routes, maxBodyBytes: maxBodyBytes)
            }
            if e.underlyingError is NIOTooManyBytesError {
                return classify(e.underlyingError, request: request, routes: routes, maxBodyBytes: maxBodyBytes)
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
            case .notFound, .methodNotAllowed:
                if let allowed = routes.allowedMethods(request.uri.path), !allowed.contains(request.method.rawValue) {
                    return (.methodNotAllowed, "method_not_allowed", notAllowed(request, allowed: allowed))
                }
                if e.status == .methodNotAllowed {
                    return (.methodNotAllowed, "method_not_allowed", notAllowed(request, allowed: []))
                }
                return (
                    .notFound, "not_found",
                    MediationError(
                        .notFound,
                        "no resource at \(request.method.rawValue) \(request.uri.path); the API serves: "
                            + routes.resourcePaths.joined(separator: ", "),
                        details: routes.resourcePaths)
                )
            case .contentTooLarge:
                return (.contentTooLarge, "payload_too_large", tooLarge(maxBodyBytes))
            default:
                if e.status.kind == .clientError {
                    return (e.status, "invalid_input", .invalidInput(e.body ?? e.status.reasonPhrase))
                }
                return (.internalServerError, "internal", nil)
            }
        case is NIOTooManyBytesError:
            // A chunked body that grew past the limit while being collected.
            return classify(HTTPError(.contentTooLarge), request: request, routes: routes, maxBodyBytes: maxBodyBytes)
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

    /// The 405 answer's error: its details are the methods the path answers, which the `Allow` header repeats.
    static func notAllowed(_ request: Request, allowed: [String]) -> MediationError {
        MediationError(
            .invalidInput,
            "\(request.method.rawValue) is not allowed on \(request.uri.path); it answers "
                + (allowed.isEmpty ? "no method" : allowed.joined(separator: ", ")),
            details: allowed)
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

    /// The error response; a 405 carries `Allow` with the methods in `details` (RFC 9110).
    static func response(status: HTTPResponse.Status, code: String, message: String, details: [String]) -> Response {
        let data = body(code: code, message: message, details: details)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .methodNotAllowed { headers[.allow] = details.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into the JSON error body; logs what is unexpected.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    var limits = ServerLimits()
    /// The routes the router serves, for the 404 and 405 answers.
    let routes: RouteTable

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
                error, request: request, routes: routes, maxBodyBytes: limits.maxBodyBytes)
            if let mapped {
                if status == .forbidden || status == .contentTooLarge {
                    context.logger.notice(
                        "refused", metadata: ["path": "\(request.uri.path)", "why": "\(mapped.message)"])
                }
                // English unless the caller asks for Chinese (`Accept-Language: zh-CN`, as `LANG=zh_CN.UTF-8
                // mediationctl` sends): then the problems' Chinese words where Core has them for every problem.
                let language = request.headers[.acceptLanguage].map { Language(acceptLanguage: $0) } ?? .en
                let chinese = language == .zh && !mapped.fields.isEmpty && mapped.message(in: .zh) != mapped.message
                return ErrorMapping.response(
                    status: status, code: code, message: mapped.message(in: language),
                    details: chinese && mapped.details.count == mapped.fields.count
                        ? mapped.fields.map(\.zh) : mapped.details)
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
