import MediationAPI
import MediationCore
import MediationStore
import Testing

@testable import MediationServer

/// Each of the domain's named values is shown as the contract's value of the same spelling: the switches are total
/// (the compiler checks that), and this checks that none maps a case to another.
@Suite struct WireEnumTests {
    func same<Core: RawRepresentable & CaseIterable, Wire: RawRepresentable>(
        _ core: Core.Type, _ wire: (Core) -> Wire
    ) -> [String] where Core.RawValue == String, Wire.RawValue == String {
        core.allCases.filter { wire($0).rawValue != $0.rawValue }.map(\.rawValue)
    }

    @Test func everyCaseKeepsItsSpelling() {
        #expect(same(SessionStatus.self, Components.Schemas.Session.StatusPayload.init).isEmpty)
        #expect(same(Invitation.self, Components.Schemas.Seat.InvitationPayload.init).isEmpty)
        #expect(same(RiskLevel.self, Components.Schemas.Dispute.RiskPayload.init).isEmpty)
        #expect(same(DisputeStatus.self, Components.Schemas.Dispute.StatusPayload.init).isEmpty)
        #expect(same(PartySide.self, Components.Schemas.Party.SidePayload.init).isEmpty)
        #expect(same(ExpertRole.self, Components.Schemas.Expert.RolePayload.init).isEmpty)
        #expect(same(ExpertRole.self, Components.Schemas.ExpertSummary.RolePayload.init).isEmpty)
        #expect(same(ContactChannel.self, Components.Schemas.Expert.PreferredChannelPayload.init).isEmpty)
        #expect(same(NoticeKind.self, Components.Schemas.OutboxMessage.KindPayload.init).isEmpty)
        #expect(same(RecipientKind.self, Components.Schemas.OutboxMessage.RecipientKindPayload.init).isEmpty)
        #expect(same(OutboxStatus.self, Components.Schemas.OutboxMessage.StatusPayload.init).isEmpty)
        #expect(same(Role.self, Components.Schemas.Caller.RolePayload.init).isEmpty)
        for scope in Operations.ListFollowUps.Input.Query.ScopePayload.allCases {
            #expect(FollowUpScope(scope).rawValue == scope.rawValue)
        }
        #expect(FollowUpScope(nil) == .due)
    }
}
