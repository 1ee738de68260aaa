import ArgumentParser
import Foundation
import KindredApp
import KindredCore
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
        subcommands: [
            Serve.self, Worker.self, Migrate.self, Analyze.self, Score.self, Simulate.self, Inference.self, AI.self, Bench.self, Quality.self,
        ])
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
    _ configuration: KindredConfiguration, runWorkers: Bool, startSidecar: Bool = false, demo: Bool = false,
    _ body: (Application) async throws -> Void
) async throws {
    // Vapor's own argument parsing is not used: arguments were parsed here.
    let app = try await Application.make(Environment(name: "production", arguments: ["kindred"]))
    do {
        try await KindredApplication.configure(
            app, configuration: configuration, runWorkers: runWorkers, startSidecar: startSidecar, demo: demo)
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
        try await withApplication(
            configuration, runWorkers: configuration.workersInServe, startSidecar: true, demo: configuration.demo
        ) { app in
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

struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse diary text locally: text on stdin, or --jsonl FILE with {\"id\",\"text\"} per line.",
        discussion: "Prints one JSON analysis per input, in order (format in docs/analysis.md).")

    @ArgumentParser.Option(help: "A JSON Lines file of {\"id\", \"text\"} objects.")
    var jsonl: String?

    struct Input: Decodable {
        var id: String?
        var text: String
    }

    struct Output: Encodable {
        var id: String?
        var analysis: DiaryAnalysis?
        var error: String?

        enum CodingKeys: String, CodingKey { case id, error }

        func encode(to encoder: any Encoder) throws {
            // The analysis fields sit at the top level, next to the input's id.
            try analysis?.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(id, forKey: .id)
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    func run() async throws {
        let analyzer = try DiaryAnalyzer()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func emit(_ output: Output) throws {
            var line = try encoder.encode(output)
            line.append(0x0A)
            FileHandle.standardOutput.write(line)
        }
        guard let jsonl else {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("stdin is not valid UTF-8 text")
            }
            try emit(Output(id: nil, analysis: analyzer.analyze(text), error: nil))
            return
        }
        guard let content = FileManager.default.contents(atPath: jsonl) else {
            throw ValidationError("cannot read \(jsonl)")
        }
        var failures = 0
        for (number, line) in content.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            do {
                let input = try JSONDecoder().decode(Input.self, from: Data(line))
                try emit(Output(id: input.id, analysis: analyzer.analyze(input.text), error: nil))
            } catch {
                // One bad line does not stop the rest; it gets an error line in its place.
                failures += 1
                try emit(Output(id: nil, analysis: nil, error: "line \(number + 1): expected {\"id\", \"text\"} JSON"))
            }
        }
        if failures > 0 { throw ExitCode(2) }
    }
}
