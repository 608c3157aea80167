import AsyncHTTPClient
import Foundation
import HTTPTypes
import MediationAPI
import NIOCore
import NIOPosix
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// The generated client bound to the daemon's Unix socket, with errors turned into one-line failures.
struct APIClient {
    let socketPath: String
    let raw: Client

    init(socketPath: String) throws {
        self.socketPath = socketPath
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: "") else {
            throw CLIFailure.input(
                "the socket path '\(socketPath)' cannot be used; give an absolute or relative file path")
        }
        raw = Client(serverURL: url, transport: AsyncHTTPClientTransport(), middlewares: [ResponseRecorder.shared])
    }

    /// Runs one call, translating transport failures into a message that says what to do.
    func call<T>(_ body: (Client) async throws -> T) async throws -> T {
        var info = stat()
        if lstat(socketPath, &info) != 0 { throw transportFailure(CLIFailure(message: "", exitCode: 1)) }
        if (info.st_mode & S_IFMT) != S_IFSOCK {
            let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a socket"
            throw CLIFailure(
                message: "\(socketPath) is \(kind); give the daemon's socket with --socket "
                    + "(for example ./var/api.sock or /run/mediationd/api.sock)",
                exitCode: 2)
        }
        // A socket we may not use, or one nobody listens on, is said at once: the HTTP client would retry the
        // connection until its timeout, a minute later.
        if let refused = probe() { throw refused }
        do {
            return try await body(raw)
        } catch let error as CLIFailure {
            throw error
        } catch {
            throw transportFailure(error)
        }
    }

    /// Connects once, directly; a failure that no retry can cure becomes the failure to show.
    private func probe() -> CLIFailure? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result != 0 else { return nil }
        switch errno {
        case EACCES, EPERM: return transportFailure(CLIFailure(message: "EACCES", exitCode: 1))
        case ECONNREFUSED: return transportFailure(CLIFailure(message: "ECONNREFUSED", exitCode: 1))
        default: return nil
        }
    }

    private func transportFailure(_ error: any Error) -> CLIFailure {
        var info = stat()
        if lstat(socketPath, &info) != 0 {
            return CLIFailure(
                message: "mediationd is not running: there is no socket at \(socketPath). "
                    + "Start it with 'make run' (embedded default) or 'systemctl start mediationd', or pass --socket PATH.",
                exitCode: 1)
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("ECONNREFUSED") || text.contains("Connection refused") {
            return CLIFailure(
                message: "mediationd is not running: nothing answers at \(socketPath) (a stale socket). "
                    + "Start it with 'make run' or 'systemctl start mediationd'.",
                exitCode: 1)
        }
        if text.contains("EACCES") || text.contains("Permission denied") || text.contains("permission") {
            return CLIFailure(
                message: "permission denied on \(socketPath); your user must be in a group that may use mediationd "
                    + "(mediation-admin, mediation-staff or mediation-viewer)",
                exitCode: 1)
        }
        return CLIFailure(message: "could not talk to mediationd at \(socketPath): \(text)", exitCode: 1)
    }
}

/// The daemon's error body, as a failure with the right exit code.
func apiFailure(_ status: Int, _ response: Components.Responses.Problem) -> CLIFailure {
    let message: String
    if case .json(let problem) = response.body {
        message = problem.error.message
    } else {
        message = "mediationd answered \(status)"
    }
    // Bad input, unknown things and clashes are the user's to fix: usage exit code.
    let code: Int32 = [400, 404, 409, 413, 422].contains(status) ? 2 : 1
    return CLIFailure(message: message, exitCode: code)
}

/// Keeps the body of the last response, so `--json` prints exactly what the daemon sent.
final class ResponseRecorder: ClientMiddleware, @unchecked Sendable {
    static let shared = ResponseRecorder()
    private let lock = NSLock()
    private var body: [UInt8]?

    var lastBody: [UInt8]? { lock.withLock { body } }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard let responseBody else { return (response, nil) }
        // A backup streams to its file instead of being held in memory.
        if response.headerFields[.contentType] == "application/octet-stream" { return (response, responseBody) }
        let bytes = try await [UInt8](collecting: responseBody, upTo: 256 << 20)
        lock.withLock { self.body = bytes }
        return (response, HTTPBody(bytes))
    }
}

/// Prints the API's JSON: the daemon's own bytes when there are any, else the value encoded.
func printJSON<T: Encodable>(_ value: T) throws {
    if let raw = ResponseRecorder.shared.lastBody, raw.first == UInt8(ascii: "{") {
        print(String(decoding: raw, as: UTF8.self))
        return
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The API's `warnings` on standard error, one `warning:` line each (standard output stays the answer).
func printWarnings(_ warnings: [String]?) {
    for warning in warnings ?? [] { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
}
