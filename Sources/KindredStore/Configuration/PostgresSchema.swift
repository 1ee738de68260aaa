import Fluent
import Foundation
import SQLKit

/// A private PostgreSQL schema inside a shared database, reached through `?search_path=` in
/// `KINDRED_DATABASE_URL`: how tests (and side-by-side deployments) share one server without sharing
/// tables.
public struct PostgresSchema: Sendable {
    public let name: String
    /// The database URL with this schema as its search path.
    public let url: String
    let serverURL: String

    /// Creates a fresh schema named `<prefix>_<random>` on the server at `serverURL`.
    public static func create(on serverURL: String, prefix: String) async throws -> PostgresSchema {
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        try await withAdmin(serverURL) { try await $0.raw("CREATE SCHEMA \(unsafeRaw: name)").run() }
        let url = serverURL + (serverURL.contains("?") ? "&" : "?") + "search_path=\(name)"
        return PostgresSchema(name: name, url: url, serverURL: serverURL)
    }

    /// Drops the schema and everything in it; errors are ignored (it is cleanup).
    public func drop() async {
        try? await Self.withAdmin(serverURL) { try await $0.raw("DROP SCHEMA \(unsafeRaw: name) CASCADE").run() }
    }

    private static func withAdmin(_ url: String, _ body: (any SQLDatabase) async throws -> Void) async throws {
        let admin = try StandaloneDatabase(.postgres(url: url))
        do {
            guard let sql = admin.database() as? any SQLDatabase else { throw JobQueueError.notSQL }
            try await body(sql)
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
    }
}
