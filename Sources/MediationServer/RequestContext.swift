import Hummingbird
import Logging

/// The per-request context of the daemon's router.
public struct MediationRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies larger than this are refused with 413 before anything reads them.
    public var maxUploadSize: Int { ServerLimits.maxBodyBytes }
}

/// Limits that protect the daemon from oversized input.
public enum ServerLimits {
    public static let maxBodyBytes = 1 << 20
}
