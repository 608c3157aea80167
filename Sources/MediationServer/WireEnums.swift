import MediationAPI
import MediationCore
import MediationStore

// The domain's named values as the contract spells them, one total switch each: a case added on either side
// fails the build here, so no value is ever shown as another (an unknown role as a lawyer, a status as booked).

extension Components.Schemas.Session.StatusPayload {
    init(_ status: SessionStatus) {
        switch status {
        case .booked: self = .booked
        case .inSession: self = .inSession
        case .ended: self = .ended
        case .noShow: self = .noShow
        case .cancelled: self = .cancelled
        }
    }
}

extension Components.Schemas.Seat.InvitationPayload {
    init(_ invitation: Invitation) {
        switch invitation {
        case .pending: self = .pending
        case .accepted: self = .accepted
        case .declined: self = .declined
        }
    }
}

extension Components.Schemas.Dispute.RiskPayload {
    init(_ risk: RiskLevel) {
        switch risk {
        case .low: self = .low
        case .medium: self = .medium
        case .high: self = .high
        case .critical: self = .critical
        }
    }
}

extension Components.Schemas.Dispute.StatusPayload {
    init(_ status: DisputeStatus) {
        switch status {
        case .open: self = .open
        case .scheduled: self = .scheduled
        case .inSession: self = .inSession
        case .resolved: self = .resolved
        case .unresolved: self = .unresolved
        case .referred: self = .referred
        case .closed: self = .closed
        }
    }
}

extension Components.Schemas.Party.SidePayload {
    init(_ side: PartySide) {
        switch side {
        case .applicant: self = .applicant
        case .respondent: self = .respondent
        case .other: self = .other
        }
    }
}

extension Components.Schemas.Expert.RolePayload {
    init(_ role: ExpertRole) {
        switch role {
        case .legalOfficer: self = .legalOfficer
        case .lawyer: self = .lawyer
        case .retiree: self = .retiree
        case .communityStaff: self = .communityStaff
        }
    }
}

extension Components.Schemas.ExpertSummary.RolePayload {
    init(_ role: ExpertRole) {
        switch role {
        case .legalOfficer: self = .legalOfficer
        case .lawyer: self = .lawyer
        case .retiree: self = .retiree
        case .communityStaff: self = .communityStaff
        }
    }
}

extension Components.Schemas.Expert.PreferredChannelPayload {
    init(_ channel: ContactChannel) {
        switch channel {
        case .email: self = .email
        case .sms: self = .sms
        case .wecom: self = .wecom
        case .dingtalk: self = .dingtalk
        }
    }
}

extension Components.Schemas.OutboxMessage.KindPayload {
    init(_ kind: NoticeKind) {
        switch kind {
        case .notice: self = .notice
        case .reminder: self = .reminder
        case .update: self = .update
        case .cancel: self = .cancel
        case .removed: self = .removed
        case .added: self = .added
        case .rsvp: self = .rsvp
        case .followup: self = .followup
        }
    }
}

extension Components.Schemas.OutboxMessage.RecipientKindPayload {
    init(_ kind: RecipientKind) {
        switch kind {
        case .expert: self = .expert
        case .party: self = .party
        case .office: self = .office
        }
    }
}

extension Components.Schemas.OutboxMessage.StatusPayload {
    init(_ status: OutboxStatus) {
        switch status {
        case .pending: self = .pending
        case .sent: self = .sent
        case .failed: self = .failed
        case .dead: self = .dead
        case .skipped: self = .skipped
        }
    }
}

extension Components.Schemas.Caller.RolePayload {
    init(_ role: Role) {
        switch role {
        case .admin: self = .admin
        case .staff: self = .staff
        case .viewer: self = .viewer
        }
    }
}

extension FollowUpScope {
    /// The scope a listing asks for; none given means the visits due.
    init(_ scope: Operations.ListFollowUps.Input.Query.ScopePayload?) {
        switch scope {
        case nil, .due?: self = .due
        case .overdue?: self = .overdue
        case .open?: self = .open
        case .all?: self = .all
        }
    }
}
