import Fluent
import Foundation
import KindredCore
import KindredStore
import Logging
import Vapor

/// Builds a Kindred application: database, migrations, encryption, routes, middleware, workers.
public enum KindredApplication {
    /// Configures `app` from `configuration`. With `runWorkers` the background workers start when the
    /// application boots and stop when it shuts down. With `startSidecar` the local models are started in
    /// the background when no model endpoint is configured (`kindred serve`); otherwise a sidecar already
    /// running is used if there is one. With `demo` (`kindred serve` when `KINDRED_DEMO` is on) an empty
    /// database gets the demo population once the application boots, and the demo login is logged.
    public static func configure(
        _ app: Application, configuration: KindredConfiguration, runWorkers: Bool, migrate: Bool = true,
        startSidecar: Bool = false, demo: Bool = false
    ) async throws {
        app.http.server.configuration.hostname = configuration.hostname
        app.http.server.configuration.port = configuration.port
        app.logger.logLevel = configuration.logLevel

        app.databases.use(try configuration.database.configurationFactory(), as: configuration.database.databaseID)
        app.migrations.add(KindredMigrations.all)
        if migrate {
            try await app.autoMigrate()
        }
        try await StorePreparation.tune(app.db)

        let cipher: PersonalDataCipher
        if let configured = configuration.encryptionKey {
            cipher = PersonalDataCipher(key: try EncryptionKeySource.parse(configured))
        } else if configuration.database.isSQLite {
            // Embedded mode: one key, generated on first run, readable only by its owner.
            cipher = PersonalDataCipher(key: try EncryptionKeySource.loadOrCreateKeyFile(at: configuration.keyFile))
            app.logger.info("personal data is sealed with the key in \(configuration.keyFile)")
        } else {
            throw ConfigurationError.missingEncryptionKey
        }
        let blobs = try BlobStore(root: URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true))
        let database: @Sendable () -> any Database = { [app] in app.db }
        let queue = JobQueue(
            database: database,
            options: .init(
                maxAttempts: configuration.jobMaxAttempts,
                baseBackoff: .milliseconds(Int64(configuration.jobBackoffSeconds * 1000)),
                visibilityTimeout: .milliseconds(Int64(configuration.jobVisibilityTimeoutSeconds * 1000))))
        app.passwords.use(.bcrypt(cost: configuration.bcryptCost))
        let modelStore = ModelGatewayStore(database: database, cipher: cipher)
        let models = try await ModelStack.build(
            settings: configuration.models, store: modelStore, startSidecar: startSidecar,
            logger: Logger(label: "kindred.ai"))
        do {
            let purged = try await modelStore.purgeExpired(now: Date())
            if purged > 0 { app.logger.info("removed \(purged) expired model answer(s) from the cache") }
        }
        let services = KindredServices(
            configuration: configuration,
            accounts: AccountRepository(
                database: database, blobs: blobs,
                sessionCache: SessionCache(timeToLive: .milliseconds(Int64(configuration.sessionCacheSeconds * 1000)))),
            diaries: DiaryRepository(database: database, cipher: cipher, blobs: blobs),
            profiles: ProfileRepository(database: database, cipher: cipher),
            matches: MatchRepository(database: database),
            questions: try SharedAnalyzer.questionBank(),
            interestNames: InsightBuilder.interestNames(try ConceptLexicon.bundled("interests")),
            queue: queue,
            audio: AudioTools(ffmpeg: configuration.ffmpeg, ffprobe: configuration.ffprobe),
            blobs: blobs,
            analyzer: try SharedAnalyzer.instance(),
            models: models.gateway,
            sidecar: models.sidecar,
            modelLedger: modelStore,
            passwordDecoyHash: try Bcrypt.hash(UUID().uuidString, cost: configuration.bcryptCost))
        app.storage[KindredServicesKey.self] = services

        let removed = try await services.accounts.sweepOrphanFiles()
        if removed > 0 { app.logger.notice("removed files of \(removed) deleted account(s)") }
        if !services.audio.available {
            app.logger.warning(
                "ffmpeg/ffprobe not found: audio diaries will be refused until ffmpeg is installed (apt-get install ffmpeg)"
            )
        }

        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        ContentConfiguration.global.use(encoder: encoder, for: .json)

        app.middleware = Middlewares()
        app.middleware.use(RequestIDMiddleware())
        app.middleware.use(ProblemMiddleware())
        app.routes.defaultMaxBodySize = "64kb"
        try routes(app)

        let bot = try configuration.telegram.map { try TelegramBot(settings: $0, services: services, database: database) }
        if let bot { app.lifecycle.use(TelegramBotLifecycle(bot: bot)) }
        // Telegram's updates are small JSON; a voice arrives as a file id, never in the body. Without a bot the
        // route answers 404, as if it did not exist.
        app.on(.POST, "telegram", "webhook", body: .collect(maxSize: "1mb")) { [bot] request async throws -> HTTPStatus in
            guard let bot else { throw Problem.notFound }
            return try await bot.webhook(request)
        }

        // Vapor shuts handlers down in reverse order: the models go after the workers that use them.
        app.lifecycle.use(ModelLifecycle())
        if runWorkers {
            app.lifecycle.use(WorkerLifecycle())
        }
        if demo {
            let status = DemoStatus()
            app.storage[DemoStatusKey.self] = status
            app.lifecycle.use(DemoLifecycle(people: configuration.demoPeople, days: configuration.demoDays, status: status))
        }
        app.logger.info(
            "Kindred configured",
            metadata: [
                "database": "\(configuration.database)", "data_dir": "\(configuration.dataDirectory)",
                "workers": "\(runWorkers ? "\(configuration.workerConcurrency)" : "off")",
            ])
    }

    static func routes(_ app: Application) throws {
        let operations = OperationsController(registry: Observability.registry)
        app.get("health", use: operations.health)
        app.get("ready", use: operations.ready)
        app.get("metrics", use: operations.metrics)
        app.get("openapi.json", use: operations.openAPI)

        let api = app.grouped("api", "v1")
        let accounts = AccountController()
        api.post("auth", "register", use: accounts.register)
        api.post("auth", "login", use: accounts.login)
        api.post("auth", "link", use: accounts.link)

        let authenticated = api.grouped(BearerAuthenticationMiddleware())
        authenticated.post("auth", "logout", use: accounts.logout)
        authenticated.get("me", use: accounts.me)
        authenticated.patch("me", use: accounts.update)
        authenticated.delete("me", use: accounts.delete)
        authenticated.get("me", "export", use: accounts.export)

        let diaries = DiaryController()
        authenticated.on(
            .POST, "diaries", body: .collect(maxSize: ByteCount(value: DiaryController.maximumBodyBytes)),
            use: diaries.create)
        authenticated.get("diaries", use: diaries.list)
        authenticated.get("diaries", ":id", use: diaries.show)

        let profiles = ProfileController()
        authenticated.get("me", "profile", use: profiles.show)
        authenticated.get("me", "profile", "history", use: profiles.history)
        authenticated.get("me", "insights", use: profiles.insights)

        let questions = QuestionController()
        authenticated.get("me", "questions", "next", use: questions.next)
        authenticated.post("me", "questions", ":id", "answer", use: questions.answer)
        authenticated.get("me", "clone", "accuracy", use: questions.accuracy)

        let matches = MatchController()
        authenticated.get("me", "matches", use: matches.list)
        authenticated.get("matches", ":id", use: matches.show)
        authenticated.post("matches", ":id", "decision", use: matches.decide)
        authenticated.post("matches", ":id", "block", use: matches.block)
    }
}

/// Starts the job worker when the application boots and stops it (giving running jobs back) on shutdown.
final class WorkerLifecycle: LifecycleHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    func didBootAsync(_ application: Application) async throws {
        let worker = application.kindred.makeWorker(logger: Logger(label: "kindred.worker"))
        lock.withLock {
            task = Task { await worker.run() }
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = lock.withLock { task }
        running?.cancel()
        await running?.value
    }
}

/// Writes the model ledger's last entries and stops the sidecar this process started.
final class ModelLifecycle: LifecycleHandler, Sendable {
    func shutdownAsync(_ application: Application) async {
        await application.kindred.shutDownModels()
    }
}

/// One analyzer per process: loading and indexing the lexicons takes a moment, and it is immutable.
enum SharedAnalyzer {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: DiaryAnalyzer?

    nonisolated(unsafe) private static var bank: QuestionBank?

    static func questionBank() throws -> QuestionBank {
        try lock.withLock {
            if let bank { return bank }
            let loaded = try QuestionBank.bundled()
            bank = loaded
            return loaded
        }
    }

    static func instance() throws -> DiaryAnalyzer {
        try lock.withLock {
            if let cached { return cached }
            let analyzer = try DiaryAnalyzer()
            cached = analyzer
            return analyzer
        }
    }
}
