import AsyncHTTPClient
import Foundation
import KindredAI
import KindredCore
import KindredStore
import Logging
import NIOCore
import NIOPosix

/// The HTTP client every model call uses: one per process, with enough connections per host for the
/// gateway's concurrency limits (the default pool would cap a server at 8).
enum ModelHTTP {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.timeout = .init(connect: .seconds(10))
        // A server that refuses connections (a stopped sidecar) should fail at once and let the gateway
        // fall back, not be retried until the request's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// The local sidecar as the gateway sees it: its address becomes known once it has started (in the
/// background, so `kindred serve` answers at once). Calls made before then wait for it; if it cannot
/// start, they fail as a refused connection would, and the pipeline retries later.
final class SidecarLink: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<SidecarInfo?, Never>?
    private var failure: String?
    private(set) var ownedPID: Int32?
    let sidecar: InferenceSidecar

    init(sidecar: InferenceSidecar) { self.sidecar = sidecar }

    /// Starts the sidecar (or adopts a running one) in the background.
    func launch(logger: Logger) {
        lock.withLock {
            guard task == nil else { return }
            task = Task {
                do {
                    let started = try await sidecar.start(detached: false)
                    self.lock.withLock { self.ownedPID = started.ownedProcess }
                    for server in [started.info.llm, started.info.asr].compactMap({ $0 }) {
                        logger.notice("local model ready: \(server.model) at \(server.base_url)")
                    }
                    return started.info
                } catch {
                    self.lock.withLock { self.failure = "\(error)" }
                    logger.warning("the local models are not available, Kindred runs without them: \(error)")
                    return nil
                }
            }
        }
    }

    func info() async throws -> SidecarInfo {
        let running = lock.withLock { task }
        guard let running, let info = await running.value else {
            throw ModelProviderError.transport(
                "the local sidecar is not running: \(lock.withLock { failure } ?? "not started")")
        }
        return info
    }

    func stop() async {
        let pid = lock.withLock { ownedPID }
        if let pid { await sidecar.stop(pid: pid) }
    }
}

/// An OpenAI-compatible provider whose base URL comes from the sidecar once it is up.
struct SidecarProvider: ChatModelProvider, SpeechRecognitionProvider {
    enum Part {
        case llm
        case asr
    }

    let link: SidecarLink
    let part: Part
    var name: String { "local" }

    private func provider() async throws -> OpenAICompatibleProvider {
        let info = try await link.info()
        guard let server = part == .llm ? info.llm : info.asr else {
            throw ModelProviderError.unsupported("the sidecar runs without this model")
        }
        return OpenAICompatibleProvider(name: "local", baseURL: server.base_url, apiKey: nil, client: ModelHTTP.client)
    }

    func complete(_ request: ChatRequest, model: String, timeout: Duration) async throws -> ChatCompletion {
        try await provider().complete(request, model: model, timeout: timeout)
    }

    func stream(_ request: ChatRequest, model: String, timeout: Duration) -> AsyncThrowingStream<ChatStreamEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in try await provider().stream(request, model: model, timeout: timeout) {
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func transcribe(_ request: TranscriptionRequest, model: String, timeout: Duration) async throws -> Transcript {
        try await provider().transcribe(request, model: model, timeout: timeout)
    }
}

/// Builds the gateway from the configuration: YandexGPT and OpenAI-compatible endpoints where configured,
/// the local sidecar for what is not.
enum ModelStack {
    /// The sidecar's model names as the gateway labels them (free: not in the price table).
    static let localChatModel = "smollm2-135m-instruct"
    static let localSpeechModel = "whisper-base"

    struct Built {
        var gateway: ModelGateway
        var sidecar: SidecarLink?
    }

    /// `startSidecar`: whether this process may start the sidecar when nothing else is configured
    /// (`kindred serve`, the CLI); otherwise only a sidecar already running is used.
    static func build(
        settings: ModelSettings, store: ModelGatewayStore?, startSidecar: Bool, logger: Logger
    ) async throws -> Built {
        let client = ModelHTTP.client
        var cheap: [ModelEndpoint<any ChatModelProvider>] = []
        var strong: [ModelEndpoint<any ChatModelProvider>] = []
        var speech: [ModelEndpoint<any SpeechRecognitionProvider>] = []
        var embeddings: [ModelEndpoint<any EmbeddingProvider>] = []

        if let yandex = settings.yandex {
            let credential: YandexGPTProvider.Credential =
                yandex.apiKey.map { .apiKey($0) } ?? .iamToken(yandex.iamToken ?? "")
            let provider = YandexGPTProvider(
                baseURL: yandex.baseURL, folderID: yandex.folderID, credential: credential, client: client)
            cheap.append(
                ModelEndpoint(provider: provider, model: yandex.cheapModel, concurrency: yandex.concurrency, timeout: .seconds(60)))
            strong.append(
                ModelEndpoint(provider: provider, model: yandex.strongModel, concurrency: yandex.concurrency, timeout: .seconds(120)))
            embeddings.append(
                ModelEndpoint(provider: provider, model: "text-search-doc", concurrency: yandex.concurrency, timeout: .seconds(30)))
        }
        if let strongLLM = settings.strongLLM {
            strong.insert(endpoint(strongLLM, name: "openai-strong", client: client), at: 0)
        }
        if let llm = settings.llm {
            let provider = OpenAICompatibleProvider(name: "openai", baseURL: llm.baseURL, apiKey: llm.apiKey, client: client)
            cheap.append(endpoint(llm, name: "openai", client: client))
            embeddings.append(
                ModelEndpoint(provider: provider, model: llm.model, concurrency: llm.concurrency, timeout: .seconds(llm.timeoutSeconds)))
        }
        if let asr = settings.asr {
            let provider = OpenAICompatibleProvider(name: "openai", baseURL: asr.baseURL, apiKey: asr.apiKey, client: client)
            speech.append(
                ModelEndpoint(provider: provider, model: asr.model, concurrency: asr.concurrency, timeout: .seconds(asr.timeoutSeconds)))
        }

        // The local sidecar covers what no endpoint covers, and is the free fallback of the cheap tier.
        var link: SidecarLink?
        if settings.sidecar, settings.llm == nil || settings.asr == nil {
            do {
                let sidecar = try InferenceSidecar(settings: settings, logger: logger)
                let candidate = SidecarLink(sidecar: sidecar)
                if startSidecar {
                    candidate.launch(logger: logger)
                    link = candidate
                } else if await sidecar.running(client: client) != nil {
                    candidate.launch(logger: logger)  // adopts the running one
                    link = candidate
                }
            } catch {
                logger.warning("the local models are not available, Kindred runs without them: \(error)")
            }
        }
        if let link {
            if settings.llm == nil {
                cheap.append(
                    ModelEndpoint(
                        provider: SidecarProvider(link: link, part: .llm), model: localChatModel, concurrency: 8,
                        timeout: .seconds(120), free: true))
            }
            if settings.asr == nil {
                speech.append(
                    ModelEndpoint(
                        provider: SidecarProvider(link: link, part: .asr), model: localSpeechModel, concurrency: 1,
                        timeout: .seconds(300), free: true))
            }
        }

        var prices = PriceTable.yandexDefaults(rubPerUSD: settings.rubPerUSD)
        if let file = settings.pricesFile {
            let extra = try JSONDecoder().decode([String: PriceTable.Price].self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            prices.prices.merge(extra) { _, configured in configured }
        }
        var routes = ModelTask.defaultRoutes
        // The small local model extracts worse than the lexicons: with nothing else to ask, refinement of
        // the analysis stays local (set KINDRED_AI_ROUTES=analysis.refine:cheap to ask it anyway).
        if cheap.allSatisfy(\.free), strong.isEmpty {
            routes[ModelTask.analysisRefine] = .local
        }
        routes.merge(settings.routes) { _, configured in configured }
        var chat: [ModelTier: [ModelEndpoint<any ChatModelProvider>]] = [:]
        if !cheap.isEmpty { chat[.cheap] = cheap }
        if !strong.isEmpty { chat[.strong] = strong }
        let configuration = ModelGatewayConfiguration(
            chat: chat, embeddings: embeddings, transcription: speech, routes: routes, prices: prices,
            budgets: BudgetPolicy(dailyUSD: [.free: settings.budgetFreeUSD, .premium: settings.budgetPremiumUSD]),
            cacheCapacity: settings.cacheCapacity, cacheTTL: .seconds(settings.cacheTTLSeconds))
        for endpoint in cheap + strong where !endpoint.free && prices.price(for: endpoint.model) == nil {
            logger.warning(
                "no price for model \(endpoint.model): its calls are counted at 0 (add it with KINDRED_AI_PRICES_FILE)")
        }
        let gateway = ModelGateway(configuration: configuration, cacheStore: store, ledger: store, logger: logger)
        for line in gateway.describedModels { logger.info("model: \(line)") }
        if !gateway.hasChatModel { logger.notice("no chat model configured: clone dates and advice say so instead") }
        if !gateway.hasTranscription { logger.notice("no speech model configured: voice diaries wait for one") }
        return Built(gateway: gateway, sidecar: link)
    }

    private static func endpoint(_ settings: ModelSettings.Endpoint, name: String, client: HTTPClient)
        -> ModelEndpoint<any ChatModelProvider>
    {
        ModelEndpoint(
            provider: OpenAICompatibleProvider(name: name, baseURL: settings.baseURL, apiKey: settings.apiKey, client: client),
            model: settings.model, concurrency: settings.concurrency, timeout: .seconds(settings.timeoutSeconds))
    }
}
