import Foundation
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime

extension APIHandler {
    func listAudit(_ input: Operations.ListAudit.Input) async throws -> Operations.ListAudit.Output {
        let q = input.query
        let since = try Text.nonEmpty(q.since).map {
            try Zone.shanghai.parseInstant($0, field: "since", now: info.clock.now())
        }
        let entries = try await db.auditEntries(
            AuditFilter(since: since, actor: q.actor, target: q.target, limit: q.limit ?? 100))
        return .ok(
            .init(
                body: .json(
                    .init(
                        entries: entries.map {
                            .init(
                                id: $0.id, at: Zone.shanghai.format($0.at), uid: Int64($0.uid), user: $0.user,
                                role: $0.role, action: $0.action, target: $0.target, summary: $0.summary)
                        }))))
    }

    func runRetention(_ input: Operations.RunRetention.Input) async throws -> Operations.RunRetention.Output {
        let dryRun = input.query.dryRun ?? false
        let months = info.privacy.retentionMonths
        let report = try await db.applyRetention(months: months, dryRun: dryRun)
        return .ok(
            .init(
                body: .json(
                    .init(
                        months: months, cutoff: Zone.shanghai.format(report.cutoff), disputes: report.disputes,
                        parties: report.parties, dryRun: report.dryRun))))
    }
}
