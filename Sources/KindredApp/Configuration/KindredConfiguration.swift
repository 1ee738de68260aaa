import Foundation
import KindredStore
import Logging

/// Everything Kindred reads from its environment. Each variable is documented in the README with its
/// default; this is the only place that reads them.
public struct KindredConfiguration: Sendable {
    public var hostname: String
    public var port: Int
    public var database: DatabaseLocation
    /// Folder for sealed files (audio). Default `./kindred-data`.
    public var dataDirectory: String
    /// `KINDRED_ENCRYPTION_KEY` when set.
    public var encryptionKey: String?
    /// Key file used in embedded mode when no key is configured.
    public var keyFile: String
    public var workerConcurrency: Int
    /// Whether `kindred serve` also runs the background workers (embedded mode does; at scale, turn it off
    /// and run `kindred worker` replicas).
    public var workersInServe: Bool
    public var jobMaxAttempts: Int
    public var jobBackoffSeconds: Double
    public var jobVisibilityTimeoutSeconds: Double
    public var jobPollMilliseconds: Int
    public var ffmpeg: String
    public var ffprobe: String
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Bcrypt work factor for passwords (each +1 doubles the time; 10 ≈ 60 ms here).
    public var bcryptCost: Int
    /// How long a replica remembers a verified session (0 disables). Bounds how long a token revoked on
    /// another replica keeps working on this one.
    public var sessionCacheSeconds: Double

    public enum LogFormat: String, Sendable {
        case text
        case json
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigurationError.invalid(name: name, value: raw, expected: "an integer in \(range)")
            }
            return number
        }
        func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
            guard let raw = value(name) else { return fallback }
            guard let number = Double(raw), range.contains(number) else {
                throw ConfigurationError.invalid(name: name, value: raw, expected: "a number in \(range)")
            }
            return number
        }
        func flag(_ name: String, default fallback: Bool) throws -> Bool {
            guard let raw = value(name)?.lowercased() else { return fallback }
            switch raw {
            case "1", "true", "on", "yes": return true
            case "0", "false", "off", "no": return false
            default: throw ConfigurationError.invalid(name: name, value: raw, expected: "on or off")
            }
        }

        hostname = value("KINDRED_HOST") ?? "127.0.0.1"
        port = try integer("KINDRED_PORT", default: 8080, range: 0...65535)
        database = try DatabaseLocation.parse(value("KINDRED_DATABASE_URL"))
        dataDirectory = value("KINDRED_DATA_DIR") ?? "kindred-data"
        encryptionKey = value("KINDRED_ENCRYPTION_KEY")
        keyFile = value("KINDRED_KEY_FILE") ?? "kindred.key"
        workerConcurrency = try integer("KINDRED_WORKER_CONCURRENCY", default: 2, range: 1...256)
        workersInServe = try flag("KINDRED_WORKERS_IN_SERVE", default: true)
        jobMaxAttempts = try integer("KINDRED_JOB_MAX_ATTEMPTS", default: 8, range: 1...100)
        jobBackoffSeconds = try number("KINDRED_JOB_BACKOFF_SECONDS", default: 2, range: 0.001...3600)
        jobVisibilityTimeoutSeconds = try number("KINDRED_JOB_VISIBILITY_TIMEOUT", default: 300, range: 1...86400)
        jobPollMilliseconds = try integer("KINDRED_JOB_POLL_MS", default: 250, range: 10...60000)
        ffmpeg = value("KINDRED_FFMPEG") ?? "ffmpeg"
        ffprobe = value("KINDRED_FFPROBE") ?? "ffprobe"
        if let raw = value("KINDRED_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                throw ConfigurationError.invalid(
                    name: "KINDRED_LOG_LEVEL", value: raw,
                    expected: "trace, debug, info, notice, warning, error or critical")
            }
            logLevel = level
        } else {
            logLevel = .info
        }
        if let raw = value("KINDRED_LOG_FORMAT") {
            guard let format = LogFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError.invalid(name: "KINDRED_LOG_FORMAT", value: raw, expected: "text or json")
            }
            logFormat = format
        } else {
            logFormat = .text
        }
        bcryptCost = try integer("KINDRED_BCRYPT_COST", default: 10, range: 4...15)
        sessionCacheSeconds = try number("KINDRED_SESSION_CACHE_SECONDS", default: 5, range: 0...300)
    }
}

public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(name: String, value: String, expected: String)
    case missingEncryptionKey

    public var description: String {
        switch self {
        case .invalid(let name, let value, let expected): "\(name)=\(value) is invalid: expected \(expected)"
        case .missingEncryptionKey:
            "KINDRED_ENCRYPTION_KEY must be set when Kindred runs on PostgreSQL (every replica needs the same key); "
                + "make one with: openssl rand -base64 32"
        }
    }
}
