import Fluent
import Foundation
import Logging
import NIOPosix

/// The store without a web server: the databases, migrations and a connection factory, for command-line
/// tools and tests that need the real SQLite or PostgreSQL but not Vapor.
public final class StandaloneDatabase: Sendable {
    public let databases: Databases
    public let id: DatabaseID
    let logger: Logger

    public init(_ location: DatabaseLocation, logger: Logger = Logger(label: "kindred.store")) throws {
        databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        id = location.databaseID
        self.logger = logger
        databases.use(try location.configurationFactory(), as: id, isDefault: true)
    }

    /// A database handle (a connection is taken from the pool per query).
    public func database() -> any Database {
        guard let database = databases.database(id, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        else { preconditionFailure("the database \(id) was configured in init") }
        return database
    }

    /// Runs every migration not yet applied.
    public func migrate() async throws {
        let migrations = Migrations()
        migrations.add(KindredMigrations.all)
        let migrator = Migrator(
            databases: databases, migrations: migrations, logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any(), migrationLogLevel: .debug)
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
        try await StorePreparation.tune(database())
    }

    public func shutdown() async {
        await databases.shutdownAsync()
    }
}
