import Fluent
import Foundation
import SQLKit

/// One-time settings a database needs before Kindred uses it.
public enum StorePreparation {
    /// SQLite: write-ahead logging lets readers continue while one writer writes, which an HTTP server
    /// with a background worker needs (sqlite.org/wal.html). The setting persists in the file.
    public static func tune(_ database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        try await sql.raw("PRAGMA journal_mode=WAL").run()
        // Another process on the same file (a `kindred migrate`, a second tool): wait for its lock,
        // sleeping, for up to 10 s, instead of spinning on a thread.
        try await sql.raw("PRAGMA busy_timeout=10000").run()
    }
}
