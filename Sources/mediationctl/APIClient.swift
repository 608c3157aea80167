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
        raw = Client(serverURL: url, transport: AsyncHTTPClientTransport(), middlewares: [ReaderLanguage()])
    }

    /// Runs one call, translating transport failures into a message that says what to do.
    func call<T>(_ body: (Client) async throws -> T) async throws -> T {
        var info = stat()
        if lstat(socketPath, &info) != 0 { throw transportFailure(.other("no socket")) }
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
        // A Chinese reader's words for the codes the answer carries, asked once per run (see `Say`).
        await Say.load(raw)
        do {
            return try await body(raw)
        } catch let error as CLIFailure {
            throw error
        } catch {
            throw transportFailure(Trouble(error))
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
        case EACCES, EPERM: return transportFailure(.denied)
        case ECONNREFUSED: return transportFailure(.refused)
        default: return nil
        }
    }

    /// What went wrong on the way to the daemon, read from the error's type and errno, never from its text.
    enum Trouble {
        case refused, denied
        case other(String)

        init(_ error: any Error) {
            switch error {
            case let e as ClientError: self.init(e.underlyingError)
            case let e as IOError: self.init(errno: e.errnoCode, error)
            case let e as NIOConnectionError:
                // Each address tried has its own failure; the socket has one address.
                self = e.connectionErrors.first.map { Trouble($0.error) } ?? .other(String(describing: error))
            default: self = .other(String(describing: error))
            }
        }

        init(errno code: Int32, _ error: any Error) {
            switch code {
            case ECONNREFUSED: self = .refused
            case EACCES, EPERM: self = .denied
            default: self = .other(String(describing: error))
            }
        }
    }

    private func transportFailure(_ trouble: Trouble) -> CLIFailure {
        var info = stat()
        if lstat(socketPath, &info) != 0 {
            return CLIFailure(
                message: "mediationd is not running: there is no socket at \(socketPath). "
                    + "Start it with 'make run' (embedded default) or 'systemctl start mediationd', or pass --socket PATH.",
                exitCode: 1)
        }
        switch trouble {
        case .refused:
            return CLIFailure(
                message: "mediationd is not running: nothing answers at \(socketPath) (a stale socket). "
                    + "Start it with 'make run' or 'systemctl start mediationd'.",
                exitCode: 1)
        case .denied:
            return CLIFailure(
                message: "permission denied on \(socketPath); your user must be in a group that may use mediationd "
                    + "(mediation-admin, mediation-staff or mediation-viewer)",
                exitCode: 1)
        case .other(let text):
            return CLIFailure(message: "could not talk to mediationd at \(socketPath): \(text)", exitCode: 1)
        }
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

/// Prints the API's JSON: the answer as the contract's type, encoded with sorted keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The API's `warnings` on standard error, one `warning:` (注意：) line each (standard output stays the answer).
func printWarnings(_ warnings: [String]?) {
    for warning in warnings ?? [] {
        FileHandle.standardError.write(Data((Say.t("warning: ", "注意：") + warning + "\n").utf8))
    }
}

/// Asks the daemon to answer in Chinese when the user's locale is Chinese (`LANG=zh_CN.UTF-8`; `LC_ALL` and
/// `LC_MESSAGES` first, as POSIX reads them): refusals come back in the catalogue's Chinese where it has them.
struct ReaderLanguage: ClientMiddleware {
    static var tag: String? {
        let environment = ProcessInfo.processInfo.environment
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        return locale.lowercased().hasPrefix("zh") ? "zh-CN" : nil
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let tag = Self.tag { request.headerFields[.acceptLanguage] = tag }
        return try await next(request, body, baseURL)
    }
}
