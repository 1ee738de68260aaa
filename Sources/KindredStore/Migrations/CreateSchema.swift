import Fluent
import SQLKit

/// Every migration, in order. Migrations are the single source of truth for the schema.
public enum KindredMigrations {
    public static var all: [any AsyncMigration] {
        [CreateUsers(), CreateAuthTokens(), CreateDiaries(), CreateJobs(), AddDiaryAnalysis(), CreateModelGateway(), CreateProfiles(), CreateAnswers(), CreateMatches(), CreateTelegram(), AddMatchingPause(), CreateBlocks(), CreateLinkCodes()]
    }
}

struct CreateUsers: AsyncMigration {
    var name: String { "2026-11-25-create-users" }

    func prepare(on database: any Database) async throws {
        try await database.schema(UserRecord.schema)
            .id()
            .field("email", .string)
            .field("password_hash", .string)
            .field("display_name", .string, .required)
            .field("birth_date", .string, .required)
            .field("locale", .string, .required)
            .field("city", .string, .required)
            .field("district", .string)
            .field("latitude", .double)
            .field("longitude", .double)
            .field("gender", .string)
            .field("seeking", .string, .required)
            .field("age_min", .int)
            .field("age_max", .int)
            .field("consent_dating", .bool, .required)
            .field("consent_friendship", .bool, .required)
            .field("consent_exchange", .bool, .required)
            .field("consent_jobs", .bool, .required)
            .field("plan", .string, .required)
            .field("telegram_user_id", .int64)
            .field("is_demo", .bool, .required)
            .field("is_active", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "email")
            .unique(on: "telegram_user_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UserRecord.schema).delete()
    }
}

struct CreateAuthTokens: AsyncMigration {
    var name: String { "2026-11-25-create-auth-tokens" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AuthTokenRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "token_hash")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "auth_tokens_user_idx").on(AuthTokenRecord.schema).column("user_id").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuthTokenRecord.schema).delete()
    }
}

struct CreateDiaries: AsyncMigration {
    var name: String { "2026-11-25-create-diaries" }

    func prepare(on database: any Database) async throws {
        try await database.schema(DiaryRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("kind", .string, .required)
            .field("status", .string, .required)
            .field("text_sealed", .data)
            .field("transcript_sealed", .data)
            .field("language", .string)
            .field("audio_blob", .string)
            .field("audio_container", .string)
            .field("audio_bytes", .int)
            .field("audio_seconds", .double)
            .field("pcm_blob", .string)
            .field("error", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "diaries_user_created_idx").on(DiaryRecord.schema)
                .column("user_id").column("created_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DiaryRecord.schema).delete()
    }
}

struct CreateJobs: AsyncMigration {
    var name: String { "2026-11-25-create-jobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema(JobRecord.schema)
            .id()
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("max_attempts", .int, .required)
            .field("run_at", .int64, .required)
            .field("lease_token", .string)
            .field("lease_expires_at", .int64)
            .field("last_error", .string)
            .field("user_id", .uuid, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("created_at", .int64, .required)
            .field("updated_at", .int64, .required)
            .field("finished_at", .int64)
            .create()
        if let sql = database as? any SQLDatabase {
            // The claim query scans by state and due time.
            try await sql.create(index: "jobs_state_run_at_idx").on(JobRecord.schema)
                .column("state").column("run_at").run()
            try await sql.create(index: "jobs_user_idx").on(JobRecord.schema).column("user_id").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(JobRecord.schema).delete()
    }
}

/// The analysis stage: the sealed analysis of each diary, and the person's safety pause.
struct AddDiaryAnalysis: AsyncMigration {
    var name: String { "2026-11-25-add-diary-analysis" }

    func prepare(on database: any Database) async throws {
        try await database.schema(DiaryRecord.schema).field("analysis_sealed", .data).update()
        try await database.schema(UserRecord.schema).field("matching_paused_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DiaryRecord.schema).deleteField("analysis_sealed").update()
        try await database.schema(UserRecord.schema).deleteField("matching_paused_at").update()
    }
}

/// The model gateway's durable cache and its usage ledger.
struct CreateModelGateway: AsyncMigration {
    var name: String { "2026-11-25-create-model-gateway" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ModelCacheRecord.schema)
            .field("key", .string, .identifier(auto: false))
            .field("owner_id", .uuid, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("value_sealed", .data, .required)
            .field("expires_at", .int64, .required)
            .field("created_at", .int64, .required)
            .create()
        try await database.schema(ModelUsageRecord.schema)
            .id()
            .field("day", .string, .required)
            .field("user_id", .uuid)
            .field("task", .string, .required)
            .field("tier", .string, .required)
            .field("provider", .string, .required)
            .field("model", .string, .required)
            .field("outcome", .string, .required)
            .field("prompt_tokens", .int, .required)
            .field("completion_tokens", .int, .required)
            .field("cost_usd", .double, .required)
            .field("cost_rub", .double, .required)
            .field("duration_ms", .int, .required)
            .field("created_at", .int64, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "ai_cache_owner_idx").on(ModelCacheRecord.schema).column("owner_id").run()
            try await sql.create(index: "ai_cache_expires_idx").on(ModelCacheRecord.schema).column("expires_at").run()
            // Budgets read one person's spending on one day.
            try await sql.create(index: "ai_usage_user_day_idx").on(ModelUsageRecord.schema)
                .column("user_id").column("day").run()
            try await sql.create(index: "ai_usage_day_idx").on(ModelUsageRecord.schema).column("day").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ModelUsageRecord.schema).delete()
        try await database.schema(ModelCacheRecord.schema).delete()
    }
}

/// The living profile: current version, every version, significant changes; diaries remember which
/// version took them in.
struct CreateProfiles: AsyncMigration {
    var name: String { "2026-11-25-create-profiles" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ProfileRecord.schema)
            .field("user_id", .uuid, .identifier(auto: false), .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("version", .int, .required)
            .field("profile_sealed", .data, .required)
            .field("updated_at", .int64, .required)
            .create()
        try await database.schema(ProfileVersionRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("version", .int, .required)
            .field("diary_id", .uuid)
            .field("profile_sealed", .data, .required)
            .field("created_at", .int64, .required)
            .unique(on: "user_id", "version")
            .create()
        try await database.schema(ProfileEventRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("version", .int, .required)
            .field("trait", .string, .required)
            .field("from_value", .string, .required)
            .field("to_value", .string, .required)
            .field("created_at", .int64, .required)
            .create()
        try await database.schema(DiaryRecord.schema).field("profile_version", .int).update()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "profile_events_user_idx").on(ProfileEventRecord.schema)
                .column("user_id").column("version").run()
            // Second chances scan recent changes across everyone.
            try await sql.create(index: "profile_events_created_idx").on(ProfileEventRecord.schema)
                .column("created_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DiaryRecord.schema).deleteField("profile_version").update()
        try await database.schema(ProfileEventRecord.schema).delete()
        try await database.schema(ProfileVersionRecord.schema).delete()
        try await database.schema(ProfileRecord.schema).delete()
    }
}

/// Answers to questions, each with the clone's prediction recorded before it.
struct CreateAnswers: AsyncMigration {
    var name: String { "2026-11-25-create-answers" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AnswerRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("question_id", .string, .required)
            .field("domain", .string, .required)
            .field("answer", .string, .required)
            .field("predicted", .string)
            .field("agreement", .double)
            .field("profile_version", .int, .required)
            .field("created_at", .int64, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "answers_user_created_idx").on(AnswerRecord.schema)
                .column("user_id").column("created_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AnswerRecord.schema).delete()
    }
}

/// Matches: a proposed pair per domain, its assessment and both decisions.
struct CreateMatches: AsyncMigration {
    var name: String { "2026-11-25-create-matches" }

    func prepare(on database: any Database) async throws {
        try await database.schema(MatchRecord.schema)
            .id()
            .field("domain", .string, .required)
            .field("user_a", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("user_b", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("score", .double, .required)
            .field("confidence", .double, .required)
            .field("shown", .double, .required)
            .field("assessment", .string, .required)
            .field("decision_a", .string)
            .field("decision_b", .string)
            .field("status", .string, .required)
            .field("created_at", .int64, .required)
            .field("decided_at", .int64)
            .unique(on: "user_a", "user_b", "domain")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "matches_user_a_idx").on(MatchRecord.schema).column("user_a").column("created_at").run()
            try await sql.create(index: "matches_user_b_idx").on(MatchRecord.schema).column("user_b").column("created_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(MatchRecord.schema).delete()
    }
}

/// The Telegram bot: chats and their conversation state, updates taken (dedupe), and the polling offset.
struct CreateTelegram: AsyncMigration {
    var name: String { "2026-12-03-create-telegram" }

    func prepare(on database: any Database) async throws {
        try await database.schema(TelegramChatRecord.schema)
            .field("telegram_user_id", .int64, .identifier(auto: false))
            .field("chat_id", .int64, .required)
            .field("user_id", .uuid, .references(UserRecord.schema, .id, onDelete: .setNull))
            .field("language", .string, .required)
            .field("step", .string, .required)
            .field("draft", .string, .required)
            .field("is_active", .bool, .required)
            .field("username", .string)
            .field("reminder_hour", .int)
            .field("time_zone", .string, .required)
            .field("reminded_on", .string)
            .field("matches_checked_at", .int64)
            .field("updated_at", .int64, .required)
            .create()
        try await database.schema(TelegramUpdateRecord.schema)
            .field("update_id", .int64, .identifier(auto: false))
            .field("received_at", .int64, .required)
            .create()
        try await database.schema(TelegramStateRecord.schema)
            .field("name", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "telegram_chats_user_idx").on(TelegramChatRecord.schema).column("user_id").run()
            try await sql.create(index: "telegram_chats_reminder_idx").on(TelegramChatRecord.schema)
                .column("time_zone").column("reminder_hour").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(TelegramStateRecord.schema).delete()
        try await database.schema(TelegramUpdateRecord.schema).delete()
        try await database.schema(TelegramChatRecord.schema).delete()
    }
}

/// A person can pause matching themselves (the bot's /settings, `PATCH /me {"paused": true}`), apart from the
/// pause a diary in crisis sets.
struct AddMatchingPause: AsyncMigration {
    var name: String { "2026-12-03-add-matching-pause" }

    func prepare(on database: any Database) async throws {
        try await database.schema(UserRecord.schema).field("paused_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UserRecord.schema).deleteField("paused_at").update()
    }
}

/// Blocks: who blocked whom (absolute, both ways, every domain).
struct CreateBlocks: AsyncMigration {
    var name: String { "2026-12-03-create-blocks" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BlockRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("blocked_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("created_at", .int64, .required)
            .unique(on: "user_id", "blocked_id")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "blocks_blocked_idx").on(BlockRecord.schema).column("blocked_id").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BlockRecord.schema).delete()
    }
}

/// One-time codes that link a bot account to a web login.
struct CreateLinkCodes: AsyncMigration {
    var name: String { "2026-12-03-create-link-codes" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LinkCodeRecord.schema)
            .field("code_hash", .string, .identifier(auto: false))
            .field("user_id", .uuid, .required, .references(UserRecord.schema, .id, onDelete: .cascade))
            .field("expires_at", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LinkCodeRecord.schema).delete()
    }
}
