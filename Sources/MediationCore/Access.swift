/// What a caller may do: viewers read, staff also change the casework (experts, disputes, sessions) and read the
/// audit trail, admins also change offices, policies and retention, take backups and test channels.
public enum Role: String, Sendable, Comparable, CaseIterable {
    case viewer, staff, admin

    private var rank: Int { Role.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// The least role each operation of the API needs, by its OpenAPI `operationId`: the one table of authority.
/// The socket's access middleware reads it for every request, and any other front door (the web console) reads the
/// same table rather than a copy. Every `operationId` in openapi.yaml has exactly one entry (a test keeps them equal);
/// an operation missing here is refused to everyone.
///
/// For example:
/// ```swift
/// OperationRoles.required["createOffice"]    // .admin
/// OperationRoles.allows(.staff, "listAudit") // true
/// ```
public enum OperationRoles {
    /// operationId → the least role that may call it.
    public static let required: [String: Role] = [
        // The daemon
        "getHealth": .viewer, "getWords": .viewer, "getOpenAPIDocument": .viewer, "getStatus": .viewer,
        "getMetrics": .viewer,
        // A backup holds every party's name, mobile and ID number.
        "createBackup": .admin,
        // Offices
        "listOffices": .viewer, "getOffice": .viewer, "createOffice": .admin, "updateOffice": .admin,
        // Experts, their time off and extra time, the roster
        "listExperts": .viewer, "getExpert": .viewer, "exportRoster": .viewer, "listTimeOff": .viewer,
        "listExtraAvailability": .viewer, "getAvailability": .viewer,
        "createExpert": .staff, "updateExpert": .staff, "getExpertFeed": .staff, "resetExpertFeed": .staff,
        "importRoster": .staff, "deactivateExpert": .staff,
        "reactivateExpert": .staff, "addTimeOff": .staff, "removeTimeOff": .staff, "addExtraAvailability": .staff,
        "removeExtraAvailability": .staff,
        // Disputes, parties, conflicts of interest
        "listDisputes": .viewer, "getDispute": .viewer, "listConflicts": .viewer,
        "openDispute": .staff, "updateDispute": .staff, "setDisputeRisk": .staff, "closeDispute": .staff,
        "reopenDispute": .staff, "addParty": .staff, "updateParty": .staff, "removeParty": .staff,
        "addConflict": .staff, "removeConflict": .staff,
        // Panel policies
        "listPolicies": .viewer, "getPolicy": .viewer, "setPolicy": .admin,
        // Sessions. Room links and notice previews carry personal tokens: staff.
        "listSessions": .viewer, "getSession": .viewer, "listSubstitutes": .viewer,
        "getSessionLinks": .staff, "previewNotices": .staff,
        "findSlots": .staff, "bookSession": .staff, "rescheduleSession": .staff, "cancelSession": .staff,
        "markSession": .staff, "rsvpSession": .staff, "replaceMember": .staff,
        // The outbox and the channels
        "listOutbox": .viewer, "getOutboxMessage": .viewer,
        "retryDeadMessages": .staff, "retryOutboxMessage": .staff, "testChannel": .admin,
        // Outcomes, follow-up visits, escalations, warnings
        "getOutcome": .viewer, "getAgreement": .viewer, "getSessionRecord": .viewer, "listFollowUps": .viewer,
        "listEscalations": .viewer, "listAllEscalations": .viewer,
        "listWarnings": .viewer,
        "recordOutcome": .staff, "amendOutcome": .staff, "voidOutcome": .staff, "recordFollowUp": .staff,
        "addEscalation": .staff, "checkWarnings": .staff,
        // Reports and exports
        "weeklyReport": .viewer, "outcomesReport": .viewer, "expertsReport": .viewer, "exportRecords": .viewer,
        // The audit trail is read by those who answer for the changes in it; retention removes personal data for
        // good.
        "listAudit": .staff, "runRetention": .admin,
        // The web console's accounts: who may sign in, and with which role and offices.
        "listUsers": .admin, "createUser": .admin, "resetUserPassword": .admin, "disableUser": .admin,
        "setUserOffices": .admin,
    ]

    /// Whether `role` may call `operation`; an operation the table does not know is allowed to nobody.
    public static func allows(_ role: Role, _ operation: String) -> Bool {
        guard let needed = required[operation] else { return false }
        return role >= needed
    }
}
