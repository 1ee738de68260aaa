import Foundation
import KindredCore
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

    /// `KINDRED_DEMO` (on by default): `kindred serve` on an empty database seeds a demo population and prints
    /// the demo login. Turn it off in production.
    public var demo: Bool
    /// `KINDRED_DEMO_PEOPLE`: how many people the demo population has (default 300).
    public var demoPeople: Int
    /// `KINDRED_DEMO_DAYS`: days of diaries each demo person writes (default 3).
    public var demoDays: Int

    /// Models: see `ModelSettings`.
    public var models: ModelSettings

    /// The Telegram bot, when `KINDRED_TELEGRAM_TOKEN` is set.
    public var telegram: TelegramSettings?

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
        if let token = value("KINDRED_TELEGRAM_TOKEN") {
            let secret = value("KINDRED_TELEGRAM_WEBHOOK_SECRET")
            if let secret, secret.count > 256 || secret.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-")) }) {
                throw ConfigurationError.invalid(
                    name: "KINDRED_TELEGRAM_WEBHOOK_SECRET", value: "…", expected: "1–256 characters of A–Z, a–z, 0–9, _ and -")
            }
            telegram = TelegramSettings(
                token: token, apiBase: value("KINDRED_TELEGRAM_API_BASE") ?? "https://api.telegram.org",
                webhookURL: value("KINDRED_TELEGRAM_WEBHOOK_URL"), webhookSecret: secret,
                pollTimeoutSeconds: try integer("KINDRED_TELEGRAM_POLL_SECONDS", default: 25, range: 0...50),
                perChatIntervalMilliseconds: try integer("KINDRED_TELEGRAM_CHAT_INTERVAL_MS", default: 1000, range: 0...60_000),
                reminderCheckSeconds: try integer("KINDRED_TELEGRAM_REMINDER_CHECK_SECONDS", default: 60, range: 1...3600),
                matchCheckSeconds: try integer("KINDRED_TELEGRAM_MATCH_CHECK_SECONDS", default: 21_600, range: 1...604_800))
        }
        demo = try flag("KINDRED_DEMO", default: true)
        demoPeople = try integer("KINDRED_DEMO_PEOPLE", default: 300, range: 2...100_000)
        demoDays = try integer("KINDRED_DEMO_DAYS", default: 3, range: 1...30)

        func endpoint(_ prefix: String, model: String, concurrency: Int, timeout: Double) throws -> ModelSettings.Endpoint? {
            guard let url = value("\(prefix)_BASE_URL") else { return nil }
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil
            else {
                throw ConfigurationError.invalid(name: "\(prefix)_BASE_URL", value: url, expected: "an http(s) URL")
            }
            return ModelSettings.Endpoint(
                baseURL: url, apiKey: value("\(prefix)_API_KEY"), model: value("\(prefix)_MODEL") ?? model,
                concurrency: try integer("\(prefix)_CONCURRENCY", default: concurrency, range: 1...1024),
                timeoutSeconds: try number("\(prefix)_TIMEOUT", default: timeout, range: 1...3600))
        }
        var models = ModelSettings()
        models.llm = try endpoint("KINDRED_LLM", model: "default", concurrency: 8, timeout: 120)
        models.strongLLM = try endpoint("KINDRED_LLM_STRONG", model: "default", concurrency: 8, timeout: 180)
        models.asr = try endpoint("KINDRED_ASR", model: "whisper-1", concurrency: 2, timeout: 300)
        if let folder = value("KINDRED_YANDEX_FOLDER_ID") {
            let key = value("KINDRED_YANDEX_API_KEY")
            let iam = value("KINDRED_YANDEX_IAM_TOKEN")
            guard key != nil || iam != nil else {
                throw ConfigurationError.invalid(
                    name: "KINDRED_YANDEX_FOLDER_ID", value: folder,
                    expected: "KINDRED_YANDEX_API_KEY or KINDRED_YANDEX_IAM_TOKEN set as well")
            }
            models.yandex = ModelSettings.Yandex(
                baseURL: value("KINDRED_YANDEX_BASE_URL") ?? "https://llm.api.cloud.yandex.net", folderID: folder,
                apiKey: key, iamToken: iam, cheapModel: value("KINDRED_YANDEX_MODEL") ?? "yandexgpt-lite",
                strongModel: value("KINDRED_YANDEX_STRONG_MODEL") ?? "yandexgpt",
                concurrency: try integer("KINDRED_YANDEX_CONCURRENCY", default: 10, range: 1...1024))
        }
        if let raw = value("KINDRED_AI_ROUTES") {
            for pair in raw.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let tier = ModelTier(rawValue: parts[1].lowercased()), !parts[0].isEmpty else {
                    throw ConfigurationError.invalid(
                        name: "KINDRED_AI_ROUTES", value: raw, expected: "task=local|cheap|strong, comma-separated")
                }
                models.routes[parts[0]] = tier
            }
        }
        models.budgetFreeUSD = try number("KINDRED_AI_BUDGET_FREE_USD", default: 0.01, range: 0...1000)
        models.budgetPremiumUSD = try number("KINDRED_AI_BUDGET_PREMIUM_USD", default: 0.05, range: 0...1000)
        models.rubPerUSD = try number("KINDRED_RUB_PER_USD", default: 80, range: 1...100_000)
        models.pricesFile = value("KINDRED_AI_PRICES_FILE")
        models.cacheTTLSeconds = try number("KINDRED_AI_CACHE_TTL_SECONDS", default: 7 * 86_400, range: 0...31_536_000)
        models.cacheCapacity = try integer("KINDRED_AI_CACHE_ENTRIES", default: 20_000, range: 1...10_000_000)
        models.sidecar = try flag("KINDRED_INFERENCE", default: true)
        models.sidecarHome = value("KINDRED_INFERENCE_HOME") ?? "kindred-inference"
        models.sidecarThreads = try integer("KINDRED_INFERENCE_THREADS", default: 2, range: 1...256)
        models.python = value("KINDRED_PYTHON") ?? "python3"
        models.sidecarSource = value("KINDRED_INFERENCE_SOURCE")
        self.models = models
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

/// Which models Kindred talks to. Nothing configured: the local sidecar (if it can run) answers chat and
/// speech; without it the deterministic paths still work and model features say so.
public struct ModelSettings: Sendable {
    public struct Endpoint: Sendable, Hashable {
        public var baseURL: String
        public var apiKey: String?
        public var model: String
        public var concurrency: Int
        public var timeoutSeconds: Double
    }

    public struct Yandex: Sendable, Hashable {
        public var baseURL: String
        public var folderID: String
        public var apiKey: String?
        public var iamToken: String?
        public var cheapModel: String
        public var strongModel: String
        public var concurrency: Int
    }

    /// `KINDRED_LLM_*`: an OpenAI-compatible chat endpoint for the cheap tier.
    public var llm: Endpoint?
    /// `KINDRED_LLM_STRONG_*`: an OpenAI-compatible endpoint for the strong tier.
    public var strongLLM: Endpoint?
    /// `KINDRED_ASR_*`: an OpenAI-compatible `/audio/transcriptions` endpoint.
    public var asr: Endpoint?
    /// `KINDRED_YANDEX_*`: YandexGPT Lite (cheap) and Pro (strong).
    public var yandex: Yandex?
    /// `KINDRED_AI_ROUTES`: task → tier overrides.
    public var routes: [String: ModelTier] = [:]
    public var budgetFreeUSD: Double = 0.01
    public var budgetPremiumUSD: Double = 0.05
    public var rubPerUSD: Double = 80
    public var pricesFile: String?
    public var cacheTTLSeconds: Double = 7 * 86_400
    public var cacheCapacity: Int = 20_000
    /// `KINDRED_INFERENCE` (on by default): start the local sidecar when no endpoint is configured.
    public var sidecar: Bool = true
    public var sidecarHome: String = "kindred-inference"
    public var sidecarThreads: Int = 2
    public var python: String = "python3"
    /// `KINDRED_INFERENCE_SOURCE`: the folder holding sidecar.py and requirements.txt (found next to the
    /// working directory or the executable when unset).
    public var sidecarSource: String?

    public init() {}
}

/// `KINDRED_TELEGRAM_*`: the bot's token, the Bot API base URL (a local Bot API server or a test double can
/// stand in), and the webhook when Telegram should call Kindred instead of being polled.
public struct TelegramSettings: Sendable {
    public var token: String
    public var apiBase: String
    /// `KINDRED_TELEGRAM_WEBHOOK_URL`: the public HTTPS URL of `/telegram/webhook`; unset: long polling.
    public var webhookURL: String?
    /// `KINDRED_TELEGRAM_WEBHOOK_SECRET`: the secret Telegram sends back; unset: derived from the token.
    public var webhookSecret: String?
    /// `KINDRED_TELEGRAM_POLL_SECONDS`: how long one getUpdates call waits for updates (default 25).
    public var pollTimeoutSeconds: Int
    /// `KINDRED_TELEGRAM_CHAT_INTERVAL_MS`: the sustained gap between messages to one chat (Telegram's limit is
    /// about one a second; default 1000).
    public var perChatIntervalMilliseconds: Int
    /// `KINDRED_TELEGRAM_REMINDER_CHECK_SECONDS`: how often due diary reminders are looked for (default 60).
    public var reminderCheckSeconds: Int
    /// `KINDRED_TELEGRAM_MATCH_CHECK_SECONDS`: how often each person's matches are refreshed in the background and
    /// new ones sent to them (default 6 hours).
    public var matchCheckSeconds: Int
}
