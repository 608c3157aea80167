import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Synchronization

/// The routes the router serves, as the generated code registered them: the 404 answer lists the paths, and the 405
/// answer (with its `Allow` header) the methods of the path asked for. Filled while the handlers are registered
/// (`RecordingTransport`), so it can never disagree with the router.
final class RouteTable: Sendable {
    /// A path template ("/v1/experts/{expert}") and the methods registered on it, in the order registered.
    struct Route: Sendable, Equatable {
        var path: String
        var methods: [String]
    }

    private let state = Mutex<[Route]>([])

    /// Every route, in the order registered.
    var routes: [Route] { state.withLock { $0 } }

    /// Every resource path the API serves, for the 404 answer.
    var resourcePaths: [String] { routes.map(\.path) }

    func add(method: String, path: String) {
        state.withLock { routes in
            if let i = routes.firstIndex(where: { $0.path == path }) {
                if !routes[i].methods.contains(method) { routes[i].methods.append(method) }
            } else {
                routes.append(Route(path: path, methods: [method]))
            }
        }
    }

    /// The methods a concrete path answers, as the `Allow` header lists them (HEAD wherever GET, since the router
    /// answers it), most specific template first ("import" before "{expert}"); nil when no template matches.
    func allowedMethods(_ path: String) -> [String]? {
        let parts = path.split(separator: "/")
        let candidates = routes.filter { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == parts.count
                && zip(pattern, parts).allSatisfy { p, s in p == s || (p.hasPrefix("{") && p.hasSuffix("}")) }
        }
        let exact = candidates.min { a, b in a.path.filter { $0 == "{" }.count < b.path.filter { $0 == "{" }.count }
        guard let methods = exact?.methods else { return nil }
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        let all = methods.contains("GET") ? methods + ["HEAD"] : methods
        return all.sorted { (order.firstIndex(of: $0) ?? order.count) < (order.firstIndex(of: $1) ?? order.count) }
    }
}

/// Registers each generated handler on the router and notes its method and path in the route table.
struct RecordingTransport<Context: RequestContext>: ServerTransport {
    let router: Router<Context>
    let table: RouteTable

    func register(
        _ handler:
            @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            ), method: HTTPRequest.Method, path: String
    ) throws {
        router.register(handler, method: method, path: path)
        table.add(method: method.rawValue, path: path)
    }
}
