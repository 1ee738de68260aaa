import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation

/// Which database Kindred uses: the embedded SQLite file by default, PostgreSQL when
/// `KINDRED_DATABASE_URL` says `postgres://...`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case sqliteInMemory
    case postgres(url: String)

    public static let defaultSQLitePath = "kindred.sqlite"

    /// Parses `KINDRED_DATABASE_URL`: unset or empty → `./kindred.sqlite`; `sqlite:PATH`, `sqlite://PATH`,
    /// `sqlite::memory:`; `postgres://` or `postgresql://` URLs.
    public static func parse(_ value: String?) throws -> DatabaseLocation {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return .sqlite(path: defaultSQLitePath)
        }
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            return .postgres(url: value)
        }
        if value == "sqlite::memory:" { return .sqliteInMemory }
        for prefix in ["sqlite://", "sqlite:"] where value.hasPrefix(prefix) {
            let path = String(value.dropFirst(prefix.count))
            guard !path.isEmpty else { break }
            return .sqlite(path: path)
        }
        throw DatabaseLocationError.unsupported(value.split(separator: ":").first.map(String.init) ?? value)
    }

    public var isSQLite: Bool {
        if case .postgres = self { return false }
        return true
    }

    /// Safe to log: never prints a password.
    public var description: String {
        switch self {
        case .sqlite(let path): return "SQLite at \(path)"
        case .sqliteInMemory: return "SQLite in memory"
        case .postgres(let url):
            if var components = URLComponents(string: url) {
                if components.password != nil { components.password = "***" }
                return "PostgreSQL at \(components.string ?? "postgres://…")"
            }
            return "PostgreSQL"
        }
    }

    /// The Fluent configuration for this location.
    public func configurationFactory() throws -> DatabaseConfigurationFactory {
        switch self {
        case .sqlite(let path):
            return .singleConnectionSQLite(.file(path))
        case .sqliteInMemory:
            return .singleConnectionSQLite(.memory)
        case .postgres(let url):
            // `?search_path=a,b` selects schemas (one database shared by several deployments or tests).
            var components = URLComponents(string: url)
            let searchPath = components?.queryItems?.first(where: { $0.name == "search_path" })?.value
            let otherItems = components?.queryItems?.filter { $0.name != "search_path" } ?? []
            components?.queryItems = otherItems.isEmpty ? nil : otherItems
            var configuration = try SQLPostgresConfiguration(url: components?.string ?? url)
            configuration.searchPath = searchPath.map { $0.split(separator: ",").map(String.init) }
            return .postgres(configuration: configuration, maxConnectionsPerEventLoop: 8)
        }
    }

    public var databaseID: DatabaseID { isSQLite ? .sqlite : .psql }
}

public enum DatabaseLocationError: Error, CustomStringConvertible {
    case unsupported(String)

    public var description: String {
        switch self {
        case .unsupported(let scheme):
            "KINDRED_DATABASE_URL scheme \"\(scheme)\" is not supported: use postgres://user:pass@host:5432/db or sqlite:PATH"
        }
    }
}
