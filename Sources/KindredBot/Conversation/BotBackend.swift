import Foundation
import KindredCore

/// Where a chat stands in the conversation.
public enum BotStep: String, Sendable, Codable, CaseIterable {
    /// Told what Kindred is; waiting for consent.
    case welcome
    /// Consent given; waiting for the 18+ confirmation.
    case adult
    case birthYear
    case city
    case lookingFor
    case gender
    case seeking
    /// Onboarded: messages are diaries, commands work.
    case ready
    /// When to remind about the diary (the last onboarding step).
    case reminder
    /// Said they are under 18: nothing is kept but this.
    case underage
}

/// What onboarding has gathered before the account exists.
public struct OnboardingDraft: Codable, Sendable, Equatable {
    public var firstName: String?
    public var birthYear: Int?
    public var city: String?
    /// Chosen domains: `romance`, `friendship`, `exchange`, `jobs`, `help`.
    public var lookingFor: [String]
    public var gender: String?
    public var seeking: [String]

    public init() {
        lookingFor = []
        seeking = []
    }
}

/// A chat with the bot, as the conversation sees it.
public struct BotChat: Sendable, Equatable {
    public var telegramUserID: Int64
    public var chatID: Int64
    /// The Kindred account, once onboarding created it.
    public var userID: UUID?
    public var language: KindredLocale
    public var step: BotStep
    public var draft: OnboardingDraft
    public var isActive: Bool
    /// The Telegram @username (shared with a match only after both said yes).
    public var username: String?
    /// Local hour of the daily reminder; nil: none.
    public var reminderHour: Int?
    /// IANA time zone of the person's city.
    public var timeZone: String

    public init(
        telegramUserID: Int64, chatID: Int64, userID: UUID? = nil, language: KindredLocale, step: BotStep,
        draft: OnboardingDraft = OnboardingDraft(), isActive: Bool = true, username: String? = nil,
        reminderHour: Int? = nil, timeZone: String = "Europe/Moscow"
    ) {
        self.telegramUserID = telegramUserID
        self.chatID = chatID
        self.userID = userID
        self.language = language
        self.step = step
        self.draft = draft
        self.isActive = isActive
        self.username = username
        self.reminderHour = reminderHour
        self.timeZone = timeZone
    }
}

/// Where a diary is, as the bot tells it.
public enum BotDiaryState: Sendable, Equatable {
    case received
    case transcribing
    case analyzing
    /// A recording kept until a speech model is available.
    case waitingForModel
    case failed(reason: String)
    case understood(DiarySummary)
}

/// What the bot says it understood from one diary: two or three lines.
public struct DiarySummary: Sendable, Equatable {
    /// The strongest Plutchik emotion (`joy`, `sadness`, …), or `calm` for a quiet day; nil when unclear.
    public var mood: String?
    /// Interests and values the diary showed, named in both languages.
    public var learned: [LocalizedText]
    /// What the person needs, offers and can do, named from the taxonomy in both languages.
    public var needs: [LocalizedText]
    public var offers: [LocalizedText]
    public var skills: [LocalizedText]
    /// The diary showed signs of crisis (matching is paused).
    public var crisis: Bool

    public init(
        mood: String?, learned: [LocalizedText], needs: [LocalizedText], offers: [LocalizedText], skills: [LocalizedText],
        crisis: Bool
    ) {
        self.mood = mood
        self.learned = learned
        self.needs = needs
        self.offers = offers
        self.skills = skills
        self.crisis = crisis
    }
}

/// The account the onboarding creates.
public struct BotSignUp: Sendable, Equatable {
    public var telegramUserID: Int64
    public var displayName: String
    public var language: KindredLocale
    public var birthYear: Int
    public var city: String
    public var lookingFor: [String]
    public var gender: String?
    public var seeking: [String]
}

/// A question the clone asks, in the person's language.
public struct BotQuestion: Sendable, Equatable {
    public struct Option: Sendable, Equatable {
        public var id: String
        public var label: String

        public init(id: String, label: String) {
            self.id = id
            self.label = label
        }
    }

    public var id: String
    public var text: String
    /// A 1–5 scale (Likert); otherwise `options`.
    public var isScale: Bool
    public var options: [Option]

    public init(id: String, text: String, isScale: Bool, options: [Option]) {
        self.id = id
        self.text = text
        self.isScale = isScale
        self.options = options
    }
}

/// What an answer did: the clone's guess beforehand, when it had one.
public struct BotAnswer: Sendable, Equatable {
    public var label: String
    /// The clone's prediction, as a label; nil when it had none.
    public var predicted: String?
    public var guessed: Bool

    public init(label: String, predicted: String?, guessed: Bool) {
        self.label = label
        self.predicted = predicted
        self.guessed = guessed
    }
}

/// The clone in a few lines.
public struct BotProfile: Sendable, Equatable {
    public var lines: [String]
    /// Share of answers the clone guessed beforehand (0…100), over `predicted` answers; nil before any.
    public var accuracy: Int?
    public var predicted: Int
    public var diaries: Int
    public var answers: Int
    /// The accuracy over the 30 days before the last 30, for the progress line; nil without predictions then.
    public var previousAccuracy: Int?

    public init(lines: [String], accuracy: Int?, predicted: Int, diaries: Int, answers: Int, previousAccuracy: Int? = nil) {
        self.lines = lines
        self.accuracy = accuracy
        self.previousAccuracy = previousAccuracy
        self.predicted = predicted
        self.diaries = diaries
        self.answers = answers
    }
}

/// What the clone found a person needs, offers and can do.
public struct BotNeeds: Sendable, Equatable {
    public var needs: [LocalizedText]
    public var offers: [LocalizedText]
    public var skills: [LocalizedText]

    public init(needs: [LocalizedText], offers: [LocalizedText], skills: [LocalizedText]) {
        self.needs = needs
        self.offers = offers
        self.skills = skills
    }
}

/// How to reach the other person of an accepted match.
public struct BotContact: Sendable, Equatable {
    public var name: String
    /// Their Telegram user id (private chat id), when they use the bot.
    public var telegramUserID: Int64?
    public var username: String?
    public var language: KindredLocale

    public init(name: String, telegramUserID: Int64?, username: String?, language: KindredLocale) {
        self.name = name
        self.telegramUserID = telegramUserID
        self.username = username
        self.language = language
    }
}

/// A match as one of its people sees it.
public struct BotMatch: Sendable, Equatable {
    public var id: UUID
    /// romance | friendship | team
    public var domain: String
    /// «74%», «70–80%» or a word.
    public var display: String
    public var reasons: [String]
    public var risks: [String]
    /// proposed | accepted | declined
    public var status: String
    public var myDecision: String?
    /// Both said yes: who they are. Nil before.
    public var other: BotContact?
    /// The other side's view of the same match (their language and contact), for telling them too.
    public var viewer: BotContact?
    public var createdAt: Date

    public init(
        id: UUID, domain: String, display: String, reasons: [String], risks: [String], status: String,
        myDecision: String?, other: BotContact?, viewer: BotContact?, createdAt: Date
    ) {
        self.id = id
        self.domain = domain
        self.display = display
        self.reasons = reasons
        self.risks = risks
        self.status = status
        self.myDecision = myDecision
        self.other = other
        self.viewer = viewer
        self.createdAt = createdAt
    }
}

/// Everything the bot needs from Kindred (accounts, diaries, its own state), implemented by the application
/// over its repositories and by tests however they like. Errors a person should read are `UserFacingError`s.
public protocol BotBackend: Sendable {
    func chat(telegramUserID: Int64) async throws -> BotChat?
    func save(_ chat: BotChat) async throws
    /// True the first time an update is taken, false after (dedupe across restarts and replicas).
    func claim(updateID: Int64) async throws -> Bool
    func offset() async throws -> Int64?
    func setOffset(_ offset: Int64) async throws
    /// Creates the Kindred account of a finished onboarding; returns its id.
    func signUp(_ signUp: BotSignUp) async throws -> UUID
    func acceptDiary(text: String, userID: UUID) async throws -> UUID
    /// Accepts a recording (checked like an upload: container, size, duration).
    func acceptDiary(audio: Data, userID: UUID) async throws -> UUID
    func diaryState(_ diaryID: UUID, userID: UUID) async throws -> BotDiaryState
    /// The person blocked the bot: stop writing to them.
    func deactivate(telegramUserID: Int64) async throws

    // Questions, profile, needs
    func nextQuestion(userID: UUID, language: KindredLocale) async throws -> BotQuestion?
    /// Records an answer (`1`…`5` or an option id); nil for an unknown question or an answer it does not take.
    func answer(_ answer: String, to questionID: String, userID: UUID, language: KindredLocale) async throws -> BotAnswer?
    /// Questions answered in the last 24 hours.
    func answeredRecently(userID: UUID) async throws -> Int
    func profile(userID: UUID, language: KindredLocale) async throws -> BotProfile
    func needs(userID: UUID) async throws -> BotNeeds

    // Matches
    /// Refreshes the person's proposals and returns those still waiting for their decision.
    func openMatches(userID: UUID, language: KindredLocale) async throws -> [BotMatch]
    /// Decides; nil when the match is not theirs; the match as it is when it was decided already.
    func decide(_ matchID: UUID, accept: Bool, userID: UUID, language: KindredLocale) async throws -> (match: BotMatch, changed: Bool)?

    /// Blocks the other person of a match (absolute, both ways); false when the match is not theirs.
    func block(_ matchID: UUID, userID: UUID) async throws -> Bool

    // Settings
    func isPaused(userID: UUID) async throws -> Bool
    func setPaused(_ paused: Bool, userID: UUID) async throws
    /// Everything Kindred holds about the person, as JSON, and how many diaries it has.
    func export(userID: UUID) async throws -> (json: Data, diaries: Int)
    /// A one-time code to link the account to a web login (`POST /api/v1/auth/link`); nil when it has one.
    func webLoginCode(userID: UUID) async throws -> String?
    func deleteAccount(userID: UUID) async throws

    // Advice
    /// Whether a language model is configured to answer as the clone.
    var canAdvise: Bool { get }
    /// The clone's answer to the person's question.
    func advice(_ question: String, userID: UUID, language: KindredLocale) async throws -> String

    // Reminders
    /// Chats due a diary reminder now (their local hour, not reminded today, active, onboarded) with the local
    /// date to mark them with.
    func remindersDue(at now: Date) async throws -> [(chat: BotChat, localDate: String)]
    func markReminded(telegramUserID: Int64, on localDate: String) async throws
    /// Takes a piece of background work once across replicas: true for the first to ask for `key`.
    func claimOnce(_ key: String) async throws -> Bool

    // Matches found in the background
    /// Chats not checked for new matches in the last `every` seconds, with when they were last checked.
    func matchChecksDue(at now: Date, every: TimeInterval) async throws -> [(chat: BotChat, since: Date?)]
    func markMatchesChecked(telegramUserID: Int64, at date: Date) async throws
}
