import Fluent
import Foundation
import KindredStore
import Metrics
import Prometheus
import SQLKit
import Vapor

/// Liveness, readiness, metrics and the API description.
struct OperationsController {
    let registry: PrometheusCollectorRegistry

    struct HealthResponse: Content {
        var status: String
    }

    struct ReadyResponse: Content {
        var status: String
        var database: String
        var queue: [String: Int]?
        var error: String?
    }

    func health(_ request: Request) async throws -> HealthResponse {
        HealthResponse(status: "ok")
    }

    /// Ready when the database answers and the queue table is readable.
    func ready(_ request: Request) async throws -> Response {
        do {
            guard let sql = request.db as? any SQLDatabase else { throw JobQueueError.notSQL }
            try await sql.raw("SELECT 1").run()
            let counts = try await request.kindred.queue.counts()
            return try await ReadyResponse(
                status: "ready", database: request.kindred.configuration.database.isSQLite ? "sqlite" : "postgresql",
                queue: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
            ).encodeResponse(for: request)
        } catch {
            request.logger.warning("not ready", metadata: ["error": "\(error)"])
            let response = try await ReadyResponse(
                status: "unavailable", database: "unreachable", queue: nil, error: "database or queue unreachable"
            ).encodeResponse(for: request)
            response.status = .serviceUnavailable
            return response
        }
    }

    /// Prometheus text format. Queue depth is read from the database at scrape time, so it is true even
    /// when the jobs are run by other processes.
    func metrics(_ request: Request) async throws -> Response {
        if let counts = try? await request.kindred.queue.counts() {
            for (state, count) in counts {
                Gauge(label: "kindred_queue_jobs", dimensions: [("state", state.rawValue)]).record(count)
            }
        }
        let response = Response(status: .ok, body: .init(data: Data(registry.emitToBuffer())))
        response.headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        return response
    }

    func openAPI(_ request: Request) async throws -> Response {
        let response = Response(status: .ok, body: .init(data: try OpenAPIDocument.data()))
        response.headers.contentType = .json
        return response
    }
}

/// The OpenAPI 3.1 document, the source of truth for the HTTP API (tests check every route against it).
public enum OpenAPIDocument {
    public static func data() throws -> Data {
        guard
            let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "openapi", withExtension: "json")
        else { throw Abort(.internalServerError, reason: "openapi.json is missing from the bundle") }
        return try Data(contentsOf: url)
    }
}
