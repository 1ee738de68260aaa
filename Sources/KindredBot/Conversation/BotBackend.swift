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

    public init(
        telegramUserID: Int64, chatID: Int64, userID: UUID? = nil, language: KindredLocale, step: BotStep,
        draft: OnboardingDraft = OnboardingDraft(), isActive: Bool = true
    ) {
        self.telegramUserID = telegramUserID
        self.chatID = chatID
        self.userID = userID
        self.language = language
        self.step = step
        self.draft = draft
        self.isActive = isActive
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
}
