import ArgumentParser
import Foundation
import KindredApp
import KindredStore
import Logging
import ServiceLifecycle
import Vapor

@main
struct Kindred: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kindred",
        abstract: "Kindred: AI clones that meet, match and help their people.",
        discussion: "Configuration comes from KINDRED_* environment variables (see the README).",
        subcommands: [Serve.self, Worker.self, Migrate.self])
}

/// Loads the configuration and sets up logging, the same way for every subcommand.
func loadConfiguration() throws -> KindredConfiguration {
    let configuration = try KindredConfiguration()
    Observability.bootstrapLogging(level: configuration.logLevel, json: configuration.logFormat == .json)
    _ = Observability.registry
    return configuration
}

/// Makes and configures the application, runs `body` with it, and always shuts it down.
func withApplication(
    _ configuration: KindredConfiguration, runWorkers: Bool, _ body: (Application) async throws -> Void
) async throws {
    // Vapor's own argument parsing is not used: arguments were parsed here.
    let app = try await Application.make(Environment(name: "production", arguments: ["kindred"]))
    do {
        try await KindredApplication.configure(app, configuration: configuration, runWorkers: runWorkers)
        try await body(app)
    } catch {
        app.logger.critical("Kindred stopped", metadata: ["error": "\(error)"])
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API (and, in embedded mode, the background workers) until SIGINT/SIGTERM.")

    @ArgumentParser.Option(help: "Address to listen on (default: KINDRED_HOST or 127.0.0.1).")
    var hostname: String?

    @ArgumentParser.Option(help: "Port to listen on (default: KINDRED_PORT or 8080).")
    var port: Int?

    func run() async throws {
        var configuration = try loadConfiguration()
        if let hostname { configuration.hostname = hostname }
        if let port { configuration.port = port }
        try await withApplication(configuration, runWorkers: configuration.workersInServe) { app in
            app.environment.arguments = ["kindred", "serve"]
            try await app.execute()
        }
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the background workers (pipeline jobs) until SIGINT/SIGTERM.")

    func run() async throws {
        let configuration = try loadConfiguration()
        try await withApplication(configuration, runWorkers: false) { app in
            let logger = Logger(label: "kindred.worker")
            let group = ServiceGroup(
                services: [WorkerService(worker: app.kindred.makeWorker(logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            try await group.run()
        }
    }
}

/// The job worker as a lifecycle service: a graceful shutdown cancels it, and running jobs go back to
/// the queue.
struct WorkerService: Service {
    let worker: JobWorker

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await worker.run()
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database schema, then exit.")

    func run() async throws {
        let configuration = try loadConfiguration()
        try await withApplication(configuration, runWorkers: false) { app in
            app.logger.notice("database is up to date", metadata: ["database": "\(configuration.database)"])
        }
    }
}
