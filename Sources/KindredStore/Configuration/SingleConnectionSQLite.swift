import FluentKit
import FluentSQLiteDriver
import NIOCore

/// SQLite through exactly one connection per process.
///
/// Fluent's SQLite driver opens one connection per event loop. SQLite allows one writer at a time, so a
/// second connection that wants to write while the first is inside a transaction is told "busy"; SQLiteNIO
/// then retries in a tight loop on a thread of the shared thread pool. With as few threads as this
/// machine has cores, two such spinning writers can take every thread while the transaction they wait
/// for needs one to commit: a deadlock that surfaces as connection-pool timeouts. One connection
/// serialises statements in the process instead (SQLite serialises writers anyway), and transactions
/// never wait on each other's locks.
struct SingleConnectionSQLiteConfiguration: DatabaseConfiguration {
    var inner: any DatabaseConfiguration

    var middleware: [any AnyModelMiddleware] {
        get { inner.middleware }
        set { inner.middleware = newValue }
    }

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        // The driver makes one connection per event loop of the group it is given: give it one loop.
        let loop = databases.eventLoopGroup.next()
        let scoped = Databases(threadPool: databases.threadPool, on: loop)
        return SingleLoopDriver(inner: inner.makeDriver(for: scoped), loop: loop)
    }
}

/// Hands every database handle the driver's one event loop, whatever loop the caller is on.
struct SingleLoopDriver: DatabaseDriver {
    let inner: any DatabaseDriver
    let loop: any EventLoop

    func makeDatabase(with context: DatabaseContext) -> any Database {
        inner.makeDatabase(
            with: DatabaseContext(
                configuration: context.configuration, logger: context.logger, eventLoop: loop, history: context.history,
                pageSizeLimit: context.pageSizeLimit, shouldTrace: context.shouldTrace))
    }

    func shutdown() { inner.shutdown() }
    func shutdownAsync() async { await inner.shutdownAsync() }
}

extension DatabaseConfigurationFactory {
    /// SQLite with one connection for the whole process (see `SingleConnectionSQLiteConfiguration`).
    static func singleConnectionSQLite(_ configuration: SQLiteConfiguration) -> Self {
        let factory = DatabaseConfigurationFactory.sqlite(configuration, connectionPoolTimeout: .seconds(30))
        return .init { SingleConnectionSQLiteConfiguration(inner: factory.make()) }
    }
}
