import Foundation
import GRDB
import MediationCore

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
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
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
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.create(index: "expert_on_role", on: "expert", columns: ["role", "active"])
            for table in ["expert_time_off", "expert_extra_availability"] {
                try db.create(table: table) { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("expert_id", .integer).notNull().indexed().references("expert", onDelete: .cascade)
                    t.column("starts_at", .double).notNull()
                    t.column("ends_at", .double).notNull()
                    t.column("note", .text)
                    t.column("created_at", .double).notNull()
                    t.check(sql: "ends_at > starts_at")
                }
            }
        }
        migrator.registerMigration("v2-disputes-parties-conflicts-policies") { db in
            try db.alter(table: "office") { t in t.add(column: "dispute_prefix", .text) }
            try db.create(table: "dispute") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("number", .text).notNull().unique()
                t.column("office_id", .text).notNull().indexed().references("office")
                t.column("year", .integer).notNull()
                t.column("sequence", .integer).notNull()
                t.column("title", .text).notNull()
                t.column("category", .text).notNull()
                for name in ["cause", "location", "nature", "involved", "development"] { t.column(name, .text) }
                t.column("occurred_at", .double)
                t.column("scale", .integer)
                t.column("risk", .text).notNull().check(sql: "risk IN ('low','medium','high','critical')")
                t.column("status", .text).notNull()
                t.column("opened_at", .double).notNull()
                t.column("closed_at", .double)
                t.column("updated_at", .double).notNull()
                t.uniqueKey(["office_id", "year", "sequence"])
            }
            try db.create(table: "dispute_counter") { t in
                t.column("office_id", .text).notNull().references("office")
                t.column("year", .integer).notNull()
                t.column("last", .integer).notNull()
                t.primaryKey(["office_id", "year"])
            }
            for (table, kind) in [("dispute_risk_change", "level"), ("dispute_status_change", "status")] {
                try db.create(table: table) { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("dispute_id", .integer).notNull().indexed().references("dispute", onDelete: .cascade)
                    t.column("at", .double).notNull()
                    t.column("from_\(kind)", .text)
                    t.column("to_\(kind)", .text).notNull()
                    t.column("reason", .text).notNull()
                    t.column("uid", .integer).notNull()
                    t.column("user", .text)
                }
            }
            try db.create(table: "party") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("dispute_id", .integer).notNull().indexed().references("dispute", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("side", .text).notNull().check(sql: "side IN ('applicant','respondent','other')")
                for name in ["mobile", "email", "id_card", "organisation", "language"] { t.column(name, .text) }
                t.column("time_zone", .text).notNull()
                t.column("weekly_windows", .text).notNull()
                t.column("dated_windows", .text).notNull()
            }
            try db.create(table: "conflict") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("expert_id", .integer).notNull().indexed().references("expert", onDelete: .cascade)
                t.column("party_id", .integer).indexed().references("party", onDelete: .cascade)
                t.column("organisation", .text)
                t.column("reason", .text)
                t.column("created_at", .double).notNull()
                t.check(sql: "party_id IS NOT NULL OR organisation IS NOT NULL")
            }
            try db.create(table: "panel_policy") { t in
                t.primaryKey("name", .text)
                t.column("description", .text)
                t.column("requirements", .text).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.execute(
                sql: "INSERT INTO panel_policy (name, description, requirements, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [
                    PanelPolicy.standard.name, PanelPolicy.standard.description,
                    RequirementsColumn.encode(PanelPolicy.standard.requirements), Date().epoch,
                ])
        }
        migrator.registerMigration("v3-sessions") { db in
            try db.create(table: "session") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("dispute_id", .integer).notNull().indexed().references("dispute")
                t.column("office_id", .text).notNull().references("office")
                t.column("starts_at", .double).notNull()
                t.column("ends_at", .double).notNull()
                t.column("status", .text).notNull()
                t.column("sequence", .integer).notNull()
                t.column("room", .text)
                t.column("cancel_reason", .text)
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.check(sql: "ends_at > starts_at")
            }
            try db.create(index: "session_on_start", on: "session", columns: ["starts_at"])
            try db.create(table: "session_panel") { t in
                t.column("session_id", .integer).notNull().references("session", onDelete: .cascade)
                t.column("expert_id", .integer).notNull().indexed().references("expert")
                t.column("requirement_index", .integer).notNull()
                t.column("requirement", .text).notNull()
                t.column("invitation", .text).notNull()
                t.column("lead", .boolean).notNull()
                t.primaryKey(["session_id", "expert_id"])
            }
            try db.create(table: "session_search") { t in
                t.primaryKey("dispute_id", .integer).references("dispute", onDelete: .cascade)
                t.column("duration_minutes", .integer).notNull()
                t.column("requirements", .text).notNull()
                t.column("options", .text).notNull()
                t.column("created_at", .double).notNull()
            }
        }
        migrator.registerMigration("v4-outbox") { db in
            try db.create(table: "outbox_message") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("token", .text).notNull().unique()
                t.column("session_id", .integer).notNull().indexed().references("session")
                t.column("kind", .text).notNull()
                t.column("recipient_kind", .text).notNull()
                t.column("recipient_id", .integer).notNull()
                t.column("offset_minutes", .integer)
                t.column("sequence", .integer).notNull()
                t.column("due_at", .double).notNull()
                t.column("status", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("next_attempt_at", .double).notNull()
                t.column("channel", .text)
                t.column("last_error", .text)
                t.column("created_at", .double).notNull()
                t.column("sent_at", .double)
            }
            try db.create(index: "outbox_due", on: "outbox_message", columns: ["status", "next_attempt_at"])
            try db.create(table: "outbox_attempt") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("message_id", .integer).notNull().indexed().references("outbox_message", onDelete: .cascade)
                t.column("at", .double).notNull()
                t.column("channel", .text).notNull()
                t.column("result", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("v5-outcomes-followups") { db in
            try db.create(table: "outcome") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("session_id", .integer).notNull().unique().references("session")
                t.column("dispute_id", .integer).notNull().indexed().references("dispute")
                t.column("result", .text).notNull()
                    .check(
                        sql: """
                            result IN ('agreement','partial_agreement','no_agreement','adjourned','referred_court',
                            'referred_police','referred_other')
                            """)
                t.column("terms", .text)
                // Fen (1/100 yuan), so sums never drift.
                t.column("amount_fen", .integer).check(sql: "amount_fen IS NULL OR amount_fen >= 0")
                t.column("signed", .boolean).notNull()
                t.column("notes", .text)
                t.column("referred_to", .text)
                // The session's end, copied so the reports read a range of outcomes from one index.
                t.column("held_at", .double).notNull().indexed()
                t.column("recorded_at", .double).notNull()
                t.column("recorded_uid", .integer).notNull()
                t.column("recorded_by", .text)
            }
            try db.create(table: "followup") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("dispute_id", .integer).notNull().indexed().references("dispute")
                t.column("session_id", .integer).notNull().references("session")
                t.column("outcome_id", .integer).notNull().references("outcome")
                t.column("office_id", .text).notNull().references("office")
                // The visit's day in the office's zone: text to show, day number (days since 1970) to compare.
                t.column("due_on", .text).notNull()
                t.column("due_day", .integer).notNull()
                t.column("offset_days", .integer).notNull()
                t.column("assignee_expert_id", .integer).references("expert")
                t.column("result", .text).check(sql: "result IS NULL OR result IN ('stable','relapsed','escalated')")
                t.column("notes", .text)
                t.column("recorded_at", .double)
                t.column("recorded_by", .text)
                t.column("created_at", .double).notNull()
            }
            try db.create(index: "followup_open", on: "followup", columns: ["result", "due_day"])
            try db.create(table: "escalation") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("dispute_id", .integer).notNull().indexed().references("dispute")
                t.column("kind", .text).notNull().check(sql: "kind IN ('criminal','violence','petition')")
                t.column("occurred_on", .text).notNull()
                t.column("occurred_day", .integer).notNull().indexed()
                t.column("case_reference", .text)
                t.column("notes", .text)
                t.column("followup_id", .integer).references("followup")
                t.column("recorded_at", .double).notNull()
                t.column("recorded_by", .text)
            }
            try db.create(table: "warning") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("rule", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("dispute_id", .integer).notNull().indexed().references("dispute")
                t.column("office_id", .text).notNull()
                t.column("message", .text).notNull()
                t.column("raised_at", .double).notNull().indexed()
                t.column("delivered_at", .double)
                t.column("channel", .text)
                // Raised once per rule and subject, however often the rules run.
                t.uniqueKey(["rule", "subject"])
            }
            // The weekly review reads open disputes by status, and sessions by status and start.
            try db.create(index: "dispute_on_status", on: "dispute", columns: ["status", "office_id"])
            try db.create(index: "session_on_status_start", on: "session", columns: ["status", "starts_at"])
        }
        migrator.registerMigration("v6-audit-privacy") { db in
            // Who did what, append-only: the triggers refuse to change or remove a row, whatever the path.
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .double).notNull().indexed()
                t.column("uid", .integer).notNull()
                t.column("user", .text)
                t.column("role", .text).notNull()
                t.column("action", .text).notNull()
                t.column("target", .text).notNull()
                t.column("summary", .text).notNull()
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: they cannot be changed'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: they cannot be removed'); END;
                    CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
                    WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
                    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: they cannot be replaced'); END;
                    """)
            // When the retention policy removed a party's contact details and ID number.
            try db.alter(table: "party") { t in t.add(column: "anonymised_at", .double) }
            try db.create(index: "dispute_on_closed_at", on: "dispute", columns: ["status", "closed_at"])
        }
        migrator.registerMigration("v7-operations") { db in
            // One row per backup handed to mediationctl, so status can tell when the last one was taken and by whom.
            try db.create(table: "backup_log") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("taken_at", .double).notNull()
                t.column("bytes", .integer).notNull()
                t.column("uid", .integer).notNull()
                t.column("user", .text)
                t.column("destination", .text)
            }
        }
        migrator.registerMigration("v8-panel-times") { db in
            // Each panel row carries its session's times, so "what is this expert booked for around then" is one
            // index range per expert, whatever the office's history. Triggers keep the copies true: a row inserted
            // without them takes them from its session, and moving a session moves its panel's rows. The new index
            // starts with expert_id, so the old one on expert_id alone only cost every booking a page.
            try db.alter(table: "session_panel") { t in
                t.add(column: "starts_at", .double)
                t.add(column: "ends_at", .double)
            }
            try db.execute(
                sql: """
                    UPDATE session_panel SET
                      starts_at = (SELECT starts_at FROM session WHERE session.id = session_panel.session_id),
                      ends_at = (SELECT ends_at FROM session WHERE session.id = session_panel.session_id);
                    CREATE INDEX session_panel_on_expert_time ON session_panel (expert_id, starts_at);
                    DROP INDEX session_panel_on_expert_id;
                    CREATE TRIGGER session_panel_times_on_insert AFTER INSERT ON session_panel
                    WHEN NEW.starts_at IS NULL OR NEW.ends_at IS NULL
                    BEGIN
                      UPDATE session_panel SET
                        starts_at = (SELECT starts_at FROM session WHERE id = NEW.session_id),
                        ends_at = (SELECT ends_at FROM session WHERE id = NEW.session_id)
                      WHERE session_id = NEW.session_id AND expert_id = NEW.expert_id;
                    END;
                    CREATE TRIGGER session_panel_times_on_move AFTER UPDATE OF starts_at, ends_at ON session
                    WHEN NEW.starts_at IS NOT OLD.starts_at OR NEW.ends_at IS NOT OLD.ends_at
                    BEGIN
                      UPDATE session_panel SET starts_at = NEW.starts_at, ends_at = NEW.ends_at
                      WHERE session_id = NEW.id;
                    END;
                    """)
        }
        migrator.registerMigration("v9-outbox-token") { db in
            // A message's token only names it (its Message-ID); nothing looks a message up by it, and its random
            // part keeps it distinct. Its UNIQUE index cost every booking nine inserts into a text index, so the
            // table is rebuilt without it (SQLite cannot drop the index of a column constraint). The migrator
            // defers foreign keys, so dropping the old table leaves outbox_attempt's rows as they are.
            try db.create(table: "outbox_message_new") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("token", .text).notNull()
                t.column("session_id", .integer).notNull().references("session")
                t.column("kind", .text).notNull()
                t.column("recipient_kind", .text).notNull()
                t.column("recipient_id", .integer).notNull()
                t.column("offset_minutes", .integer)
                t.column("sequence", .integer).notNull()
                t.column("due_at", .double).notNull()
                t.column("status", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("next_attempt_at", .double).notNull()
                t.column("channel", .text)
                t.column("last_error", .text)
                t.column("created_at", .double).notNull()
                t.column("sent_at", .double)
            }
            let columns = """
                id, token, session_id, kind, recipient_kind, recipient_id, offset_minutes, sequence, due_at, status,
                attempts, next_attempt_at, channel, last_error, created_at, sent_at
                """
            try db.execute(
                sql: """
                    INSERT INTO outbox_message_new (\(columns)) SELECT \(columns) FROM outbox_message;
                    DROP TABLE outbox_message;
                    ALTER TABLE outbox_message_new RENAME TO outbox_message;
                    CREATE INDEX outbox_message_on_session_id ON outbox_message (session_id);
                    CREATE INDEX outbox_due ON outbox_message (status, next_attempt_at);
                    """)
        }
        migrator.registerMigration("v10-panel-status") { db in
            // Each panel row carries its session's status too, and one index holds everything a booking's checks
            // read about an expert's other sessions (times, status, session): both checks become index ranges that
            // never touch the session table (they read it once per panel row before, thirty rows a booking).
            // Triggers keep the copy true: a row inserted with a status other than its session's takes the
            // session's, and a session's change of status reaches its panel.
            try db.alter(table: "session_panel") { t in t.add(column: "status", .text) }
            try db.execute(
                sql: """
                    UPDATE session_panel SET
                      status = (SELECT status FROM session WHERE session.id = session_panel.session_id);
                    CREATE INDEX session_panel_on_expert_schedule
                      ON session_panel (expert_id, starts_at, ends_at, status, session_id);
                    DROP INDEX session_panel_on_expert_time;
                    CREATE TRIGGER session_panel_status_on_insert AFTER INSERT ON session_panel
                    WHEN NEW.status IS NOT (SELECT status FROM session WHERE id = NEW.session_id)
                    BEGIN
                      UPDATE session_panel SET status = (SELECT status FROM session WHERE id = NEW.session_id)
                      WHERE session_id = NEW.session_id AND expert_id = NEW.expert_id;
                    END;
                    CREATE TRIGGER session_panel_status_on_change AFTER UPDATE OF status ON session
                    WHEN NEW.status IS NOT OLD.status
                    BEGIN
                      UPDATE session_panel SET status = NEW.status WHERE session_id = NEW.id;
                    END;
                    """)
        }
        migrator.registerMigration("v11-closed-disputes-index") { db in
            // Only retention looks disputes up by closing date, and only closed ones. Indexed on (status,
            // closed_at), every change of status (each booking schedules its dispute) moved an entry in it; a
            // partial index on closed disputes changes only when one is closed or reopened.
            try db.execute(
                sql: """
                    DROP INDEX dispute_on_closed_at;
                    CREATE INDEX dispute_on_closed_at ON dispute (closed_at) WHERE status = 'closed';
                    """)
        }
        migrator.registerMigration("v12-no-show-index") { db in
            // Sessions by status alone are read for one thing: the warning about repeated no-shows. A partial index
            // on no-shows serves it, and every booking no longer inserts into (status, starts_at) beside starts_at.
            try db.execute(
                sql: """
                    DROP INDEX session_on_status_start;
                    CREATE INDEX session_no_show_on_dispute ON session (dispute_id) WHERE status = 'no_show';
                    """)
        }
        migrator.registerMigration("v13-outcome-corrections-outside-hours") { db in
            // An outcome can be voided and recorded again, so a session has at most one outcome in force rather than
            // one row: the table is rebuilt without the UNIQUE constraint on session_id (SQLite cannot drop it) and a
            // partial unique index takes its place. The old values of an amendment are in the audit trail; the row
            // keeps when it was last amended and, once voided, when, by whom and why. The migrator defers foreign
            // keys, so dropping the old table leaves the follow-ups' references to it as they are.
            try db.create(table: "outcome_new") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("session_id", .integer).notNull().references("session")
                t.column("dispute_id", .integer).notNull().references("dispute")
                t.column("result", .text).notNull()
                    .check(
                        sql: """
                            result IN ('agreement','partial_agreement','no_agreement','adjourned','referred_court',
                            'referred_police','referred_other')
                            """)
                t.column("terms", .text)
                t.column("amount_fen", .integer).check(sql: "amount_fen IS NULL OR amount_fen >= 0")
                t.column("signed", .boolean).notNull()
                t.column("notes", .text)
                t.column("referred_to", .text)
                t.column("held_at", .double).notNull()
                t.column("recorded_at", .double).notNull()
                t.column("recorded_uid", .integer).notNull()
                t.column("recorded_by", .text)
                t.column("amended_at", .double)
                t.column("amended_by", .text)
                t.column("voided_at", .double)
                t.column("voided_by", .text)
                t.column("void_reason", .text)
            }
            let columns = """
                id, session_id, dispute_id, result, terms, amount_fen, signed, notes, referred_to, held_at, recorded_at,
                recorded_uid, recorded_by
                """
            try db.execute(
                sql: """
                    INSERT INTO outcome_new (\(columns)) SELECT \(columns) FROM outcome;
                    DROP TABLE outcome;
                    ALTER TABLE outcome_new RENAME TO outcome;
                    CREATE UNIQUE INDEX outcome_in_force ON outcome (session_id) WHERE voided_at IS NULL;
                    CREATE INDEX outcome_on_dispute_id ON outcome (dispute_id);
                    CREATE INDEX outcome_on_held_at ON outcome (held_at);
                    """)
            // A visit planned for an agreement that was voided or amended away is cancelled, not removed: its number
            // may have been printed, and 'followup record' then says what became of it.
            try db.alter(table: "followup") { t in
                t.add(column: "cancelled_at", .double)
                t.add(column: "cancel_reason", .text)
            }
            // Why a session was booked outside the office's hours; the search it was found by remembers it too.
            try db.alter(table: "session") { t in t.add(column: "outside_hours_reason", .text) }
            try db.alter(table: "session_search") { t in t.add(column: "outside_hours_reason", .text) }
        }
        migrator.registerMigration("v14-console-accounts") { db in
            // The web console's accounts (a bcrypt hash, never the password), the offices each sees, and its
            // sessions, kept by the SHA-256 of the cookie's value so that a copy of the store opens no session.
            try db.execute(
                sql: """
                    CREATE TABLE console_user (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL CHECK (role IN ('viewer', 'staff', 'admin')),
                        password_hash TEXT NOT NULL,
                        must_change INTEGER NOT NULL DEFAULT 1,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        failed_logins INTEGER NOT NULL DEFAULT 0,
                        locked_until REAL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE console_user_office (
                        user_id INTEGER NOT NULL REFERENCES console_user (id) ON DELETE CASCADE,
                        office_id TEXT NOT NULL REFERENCES office (id),
                        PRIMARY KEY (user_id, office_id)
                    );
                    CREATE TABLE console_session (
                        token_hash TEXT PRIMARY KEY,
                        user_id INTEGER NOT NULL REFERENCES console_user (id) ON DELETE CASCADE,
                        csrf TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        last_seen_at REAL NOT NULL
                    );
                    CREATE INDEX console_session_on_user ON console_session (user_id);
                    """)
        }
        migrator.registerMigration("v15-console-totp") { db in
            // The second factor of a console account (TOTP, RFC 6238): its shared secret and the last time step a
            // code was accepted at, so that one code signs in once.
            try db.alter(table: "console_user") { t in
                t.add(column: "totp_secret", .text)
                t.add(column: "totp_last_step", .integer)
            }
        }
        migrator.registerMigration("v16-party-channel") { db in
            // How a party wants to be told: sms, email, or none (staff tell them); NULL for any channel that
            // reaches them.
            try db.alter(table: "party") { t in
                t.add(column: "channel", .text).check(sql: "channel IS NULL OR channel IN ('sms', 'email', 'none')")
            }
        }
        migrator.registerMigration("v17-expert-feed") { db in
            // An expert's personal calendar feed (webcal://…/feeds/TOKEN.ics): its unguessable token, made on first
            // asking and replaced by `expert feed reset` (the old address then answers 404).
            try db.alter(table: "expert") { t in t.add(column: "feed_token", .text) }
            try db.create(index: "expert_on_feed_token", on: "expert", columns: ["feed_token"], unique: true)
        }
        migrator.registerMigration("v18-personal-link-key") { db in
            // The key personal page links are signed with (HMAC-SHA256), made once: links stay good across restarts.
            try db.create(table: "link_key") { t in
                t.column("id", .integer).primaryKey().check(sql: "id = 1")
                t.column("key", .blob).notNull()
            }
        }
        migrator.registerMigration("v19-sms-receipt") { db in
            // An SMS gateway's delivery receipt for each message it took: its id there (BizId, SerialNo) and the
            // number, to ask with; waiting until the operator reports delivered or failed.
            try db.execute(
                sql: """
                    CREATE TABLE sms_receipt (
                        provider TEXT NOT NULL,
                        provider_id TEXT NOT NULL,
                        message_id INTEGER NOT NULL REFERENCES outbox_message (id) ON DELETE CASCADE,
                        phone TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('waiting', 'delivered', 'failed')),
                        detail TEXT,
                        sent_at REAL NOT NULL,
                        received_at REAL,
                        PRIMARY KEY (provider, provider_id)
                    );
                    CREATE INDEX sms_receipt_on_message ON sms_receipt (message_id);
                    CREATE INDEX sms_receipt_waiting ON sms_receipt (state, sent_at);
                    """)
        }
        migrator.registerMigration("v20-intake-key") { db in
            // The key of the intake form a dispute was registered from: the same form sent twice (a double click,
            // a reload) answers the dispute it made instead of registering it again.
            try db.execute(
                sql: """
                    CREATE TABLE intake_key (
                        key TEXT PRIMARY KEY,
                        dispute_id INTEGER NOT NULL REFERENCES dispute (id) ON DELETE CASCADE,
                        created_at REAL NOT NULL
                    );
                    """)
        }
        return migrator
    }
}
