import MediationAPI

/// The CLI's listings use the contract module's table, the one the daemon lays out reports with.
typealias Table = TextTable
