import Fluent
import Foundation
import KindredAI
import KindredCore
import KindredStore
import Vapor

/// The long-lived parts of a running Kindred, built once from the configuration and kept in the
/// application's storage.
public struct KindredServices: Sendable {
    public let configuration: KindredConfiguration
    public let accounts: AccountRepository
    public let diaries: DiaryRepository
    public let profiles: ProfileRepository
    public let matches: MatchRepository
    /// Prepared profiles and their vectors, kept per profile version (candidate search).
    let candidates = CandidateCache()
    /// The question bank (ru/en), loaded once.
    public let questions: QuestionBank
    /// Interest names in both languages (for insights).
    public let interestNames: [String: LocalizedText]
    public let queue: JobQueue
    public let audio: AudioTools
    public let blobs: BlobStore
    /// The local diary analysis (lexicons loaded once per process).
    public let analyzer: DiaryAnalyzer
    /// The model gateway: every model call goes through it.
    public let models: ModelGateway
    /// The local sidecar this process uses (started by it or adopted), if any.
    let sidecar: SidecarLink?
    /// The model-usage ledger (`kindred ai stats`).
    public let modelLedger: any ModelUsageLedger
    /// A bcrypt hash of a random string at the configured cost: verified against on logins for unknown
    /// e-mails so that response times do not reveal who has an account.
    let passwordDecoyHash: String

    /// Writes the gateway's pending usage and stops the sidecar this process started.
    public func shutDownModels() async {
        await models.flush()
        await sidecar?.stop()
    }

    /// The background workers for this process, with the handlers of every pipeline stage.
    public func makeWorker(logger: Logger) -> JobWorker {
        JobWorker(
            queue: queue,
            handlers: [
                DiaryPipelineHandler(
                    diaries: diaries, accounts: accounts, audio: audio, analyzer: analyzer, profiles: profiles,
                    models: models,
                    logger: logger)
            ],
            concurrency: configuration.workerConcurrency,
            pollInterval: .milliseconds(configuration.jobPollMilliseconds),
            logger: logger)
    }
}

struct KindredServicesKey: StorageKey {
    typealias Value = KindredServices
}

extension Application {
    public var kindred: KindredServices {
        guard let services = storage[KindredServicesKey.self] else {
            fatalError("configure(_:) must run before the application is used")
        }
        return services
    }
}

extension Request {
    var kindred: KindredServices { application.kindred }
}
