import Hummingbird
import Logging

/// The per-request context of the daemon's router.
public struct MediationRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
