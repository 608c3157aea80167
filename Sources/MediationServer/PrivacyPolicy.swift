import Foundation
import MediationCore

extension APIHandler {
    /// The one reveal path, for parties and experts alike: false when the caller did not ask; when they did, their
    /// role is checked against `privacy.reveal_roles` before anything is read. Pair with `recordReveal`.
    ///
    /// - Throws: `forbidden` for a role that may not reveal.
    func revealAsked(_ asked: Bool?) throws -> Bool {
        guard asked == true else { return false }
        try info.privacy.checkReveal(Caller.current?.role)
        return true
    }

    /// Puts a reveal on the record (`party.reveal`, `expert.reveal`): who saw whose full numbers. Only ids and
    /// counts go in the summary, never a number.
    func recordReveal(_ action: String, target: String, summary: String) async throws {
        try await db.recordAudit(action: action, target: target, summary: summary)
    }
}
