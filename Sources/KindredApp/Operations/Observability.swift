import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics. Both swift-log and swift-metrics may be bootstrapped only once per
/// process, so this does it once and hands out the shared registry.
public enum Observability {
    private static let state = State()

    /// The Prometheus registry every metric of this process reports to.
    public static var registry: PrometheusCollectorRegistry { state.bootstrapMetrics() }

    public static func bootstrapLogging(level: Logger.Level, json: Bool) {
        state.bootstrapLogging(level: level, json: json)
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var metricsRegistry: PrometheusCollectorRegistry?
        private var loggingDone = false

        func bootstrapMetrics() -> PrometheusCollectorRegistry {
            lock.lock()
            defer { lock.unlock() }
            if let metricsRegistry { return metricsRegistry }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Request latencies: fine buckets at the low end, where the API lives.
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            ]
            MetricsSystem.bootstrap(factory)
            metricsRegistry = registry
            return registry
        }

        func bootstrapLogging(level: Logger.Level, json: Bool) {
            lock.lock()
            defer { lock.unlock() }
            guard !loggingDone else { return }
            loggingDone = true
            LoggingSystem.bootstrap { label in
                var handler: any LogHandler =
                    json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// One JSON object per line on stderr: time, level, label, message and metadata (request id, user, job).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = NSLock()

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        Self.lock.lock()
        FileHandle.standardError.write(line)
        Self.lock.unlock()
    }
}
