import GRDB

/// The schema, as append-only named migrations. Never edit one that has shipped: add another.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-offices-and-experts") { db in
            try db.create(table: "office") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("time_zone", .text).notNull()
                t.column("address", .text)
                t.column("phone", .text)
                t.column("working_hours", .text).notNull()
                t.column("default_session_minutes", .integer).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "expert") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("role", .text).notNull()
                    .check(sql: "role IN ('legal_officer','lawyer','retiree','community_staff')")
                t.column("specialties", .text).notNull()
                t.column("languages", .text).notNull()
                t.column("serves_all_offices", .boolean).notNull()
                t.column("offices", .text).notNull()
                t.column("email", .text).unique()
                t.column("mobile", .text).unique()
                t.column("wecom_user_id", .text)
                t.column("dingtalk_mobile", .text)
                t.column("preferred_channel", .text)
                t.column("time_zone", .text).notNull()
                t.column("max_sessions_per_day", .integer).notNull().check(sql: "max_sessions_per_day >= 0")
                t.column("max_sessions_per_week", .integer).notNull().check(sql: "max_sessions_per_week >= 0")
                t.column("notes", .text)
                t.column("active", .boolean).notNull()
                t.column("weekly_hours", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "expert_on_role", on: "expert", columns: ["role", "active"])
            for table in ["expert_time_off", "expert_extra_availability"] {
                try db.create(table: table) { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("expert_id", .integer).notNull().indexed().references("expert", onDelete: .cascade)
                    t.column("starts_at", .datetime).notNull()
                    t.column("ends_at", .datetime).notNull()
                    t.column("note", .text)
                    t.column("created_at", .datetime).notNull()
                    t.check(sql: "ends_at > starts_at")
                }
            }
        }
        return migrator
    }
}
