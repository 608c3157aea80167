import AsyncHTTPClient
import Foundation
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
            throw CLIFailure.input("the socket path '\(socketPath)' cannot be used; give an absolute or relative file path")
        }
        raw = Client(serverURL: url, transport: AsyncHTTPClientTransport())
    }

    /// Runs one call, translating transport failures into a message that says what to do.
    func call<T>(_ body: (Client) async throws -> T) async throws -> T {
        var info = stat()
        if lstat(socketPath, &info) != 0 { throw transportFailure(CLIFailure(message: "", exitCode: 1)) }
        do {
            return try await body(raw)
        } catch let error as CLIFailure {
            throw error
        } catch {
            throw transportFailure(error)
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

/// Prints a value as the API's JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
