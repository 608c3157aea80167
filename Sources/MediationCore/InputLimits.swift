/// The limits on what people type that Core's validation applies. openapi.yaml states the same numbers, and a test
/// keeps them equal, so that the contract says exactly what the daemon accepts.
public enum InputLimits {
    /// An expert's or a party's name, in characters.
    public static let nameLength = 100
    /// A dispute's title.
    public static let titleLength = 200
    /// Each of a dispute's elements (cause, location, nature, involved, development).
    public static let elementLength = 2000
    /// A reason given for a change (closing a dispute, cancelling a session, voiding an outcome …), and any note.
    public static let reasonLength = 1000
    /// A party's organisation.
    public static let organisationLength = 200
    /// A party's language.
    public static let languageLength = 50
    /// A panel policy's description.
    public static let policyDescriptionLength = 500
    /// People involved in a dispute (its scale).
    public static let scale = 1...100_000
    /// An expert's sessions a day, and a week.
    public static let sessionsPerDay = 0...24
    public static let sessionsPerWeek = 0...100
    /// An office's default session length, in minutes.
    public static let defaultSessionMinutes = 15...480
    /// Experts of one kind in a panel requirement (`2*lawyer`), and experts in a policy's panel.
    public static let seatsPerRequirement = 1...5
    public static let seatsPerPolicy = 7
    /// Rows a listing answers at once (the audit trail, the outbox).
    public static let listLimit = 1...10_000
}
