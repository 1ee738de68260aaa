import AsyncHTTPClient
import Fluent
import Foundation
import KindredBot
import KindredCore
import KindredStore
import Logging
import Vapor

/// The running bot: takes updates from long polling (default) or from Telegram's webhook calls, each once
/// (claimed by update id, then the offset moves past it, so a restart neither loses nor repeats one), hands
/// them to the conversation, and owns the follow-up work (diary progress) in one task group.
final class TelegramBot: Sendable {
    let settings: TelegramSettings
    let client: TelegramClient
    let backend: TelegramBackend
    let conversation: BotConversation
    let logger: Logger
    let followUps: AsyncStream<BotFollowUp>
    let followUpSink: AsyncStream<BotFollowUp>.Continuation
    /// What the bot asks Telegram for.
    static let allowedUpdates = ["message", "callback_query", "my_chat_member"]

    init(settings: TelegramSettings, services: KindredServices, database: @escaping @Sendable () -> any Database) throws {
        self.settings = settings
        let logger = Logger(label: "kindred.telegram")
        self.logger = logger
        client = TelegramClient(token: settings.token, baseURL: settings.apiBase, http: HTTPClient.shared)
        let places = try PlaceDirectory.bundled()
        backend = TelegramBackend(
            services: services, database: database, telegram: TelegramRepository(database: database), places: places,
            exchangeNames: InsightBuilder.interestNames(try ConceptLexicon.bundled("exchange")))
        let queue = SendQueue(perChatInterval: .milliseconds(Int64(settings.perChatIntervalMilliseconds)))
        conversation = BotConversation(client: client, queue: queue, backend: backend, places: places, logger: logger)
        (followUps, followUpSink) = AsyncStream.makeStream(of: BotFollowUp.self)
    }

    /// The secret Telegram sends with every webhook call (`X-Telegram-Bot-Api-Secret-Token`): configured, or
    /// derived from the token so every replica agrees without another setting (1–256 of A–Z a–z 0–9 _ -).
    var webhookSecret: String {
        settings.webhookSecret ?? SHA256.hash(data: Data("kindred-webhook:\(settings.token)".utf8)).hex
    }

    /// Takes one update: claimed once across restarts and replicas, then handled.
    func take(_ update: Update) async {
        do {
            guard try await backend.claim(updateID: update.updateID) else {
                logger.debug("update already taken", metadata: ["update": "\(update.updateID)"])
                return
            }
        } catch {
            logger.error("update could not be claimed", metadata: ["update": "\(update.updateID)", "error": "\(error)"])
            return
        }
        if let followUp = await conversation.handle(update) { followUpSink.yield(followUp) }
    }

    /// Runs until cancelled: the poller (in polling mode) and every follow-up, as children of one group.
    func run() async {
        do {
            if let url = settings.webhookURL {
                try await client.setWebhook(
                    url: url, secretToken: webhookSecret, allowedUpdates: Self.allowedUpdates, dropPendingUpdates: false)
                logger.notice("Telegram bot: webhook set", metadata: ["url": "\(url)"])
            } else {
                // getUpdates answers 409 while a webhook is set (Bot API, getUpdates).
                try await client.deleteWebhook(dropPendingUpdates: false)
                logger.notice("Telegram bot: long polling")
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("Telegram bot could not start; it will keep trying", metadata: ["error": "\(error)"])
        }
        let _: Void = await withDiscardingTaskGroup { group in
            if settings.webhookURL == nil {
                group.addTask { await self.poll() }
            }
            group.addTask { await self.remind() }
            group.addTask { await self.matchmake() }
            for await followUp in followUps {
                group.addTask { await followUp.run() }
            }
            group.cancelAll()
        }
    }

    /// Long polling with the offset kept in the database: the next update asked for is the one after the last
    /// one taken. Errors back off (1 s doubling to 30 s) and never end the loop.
    func poll() async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                let offset = try await backend.offset()
                let updates = try await client.getUpdates(
                    offset: offset, timeoutSeconds: settings.pollTimeoutSeconds, allowedUpdates: Self.allowedUpdates)
                for update in updates {
                    await take(update)
                    try await backend.setOffset(update.updateID + 1)
                }
                backoff = .seconds(1)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if let telegram = error as? TelegramError, telegram.isConflict {
                    // Someone set a webhook: polling takes over again.
                    try? await client.deleteWebhook(dropPendingUpdates: false)
                }
                logger.warning("getUpdates failed; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    /// Looks for diary reminders due every `reminderCheckSeconds` (each person's local hour).
    func remind() async {
        while !Task.isCancelled {
            await conversation.sendReminders()
            try? await Task.sleep(for: .seconds(settings.reminderCheckSeconds))
        }
    }

    /// Looks for new matches for everyone who uses the bot, every `matchCheckSeconds`.
    func matchmake() async {
        let every = TimeInterval(settings.matchCheckSeconds)
        while !Task.isCancelled {
            await conversation.pushMatches(every: every)
            // Checked often enough that a person falls due soon after their interval, never busier than a minute.
            try? await Task.sleep(for: .seconds(min(60, settings.matchCheckSeconds)))
        }
    }

    /// `POST /telegram/webhook`: Telegram's call with one update. The secret header must match; the answer
    /// is 200 once the update is taken (Telegram repeats a call that fails).
    func webhook(_ request: Request) async throws -> HTTPStatus {
        let given = request.headers.first(name: "X-Telegram-Bot-Api-Secret-Token") ?? ""
        guard Data(given.utf8).constantTimeEquals(Data(webhookSecret.utf8)) else {
            throw Problem(.forbidden, "forbidden")
        }
        guard let body = request.body.data else { throw Problem(.badRequest, "malformed-json", ["detail": "empty"]) }
        let update: Update
        do {
            update = try JSONDecoder().decode(Update.self, from: Data(buffer: body))
        } catch {
            throw Problem(.badRequest, "malformed-json", ["detail": "not a Telegram update"])
        }
        await take(update)
        return .ok
    }
}

extension Data {
    /// Compares without stopping at the first difference, so timing does not reveal the secret.
    fileprivate func constantTimeEquals(_ other: Data) -> Bool {
        guard count == other.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(self, other) { difference |= a ^ b }
        return difference == 0
    }
}

/// Starts the bot when the application boots and stops it on shutdown.
final class TelegramBotLifecycle: LifecycleHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    let bot: TelegramBot

    init(bot: TelegramBot) {
        self.bot = bot
    }

    func didBootAsync(_ application: Application) async throws {
        let bot = bot
        lock.withLock { task = Task { await bot.run() } }
    }

    func shutdownAsync(_ application: Application) async {
        let running = lock.withLock { task }
        bot.followUpSink.finish()
        running?.cancel()
        await running?.value
    }
}
