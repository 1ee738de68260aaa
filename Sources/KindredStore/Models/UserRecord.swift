import Fluent
import Foundation
import KindredCore

/// A Kindred account. Personal text (diaries) lives elsewhere, encrypted; this row holds what the
/// person tells us about themselves to be matched: place, preferences, consents.
public final class UserRecord: Model, @unchecked Sendable {
    public static let schema = "users"

    @ID(key: .id) public var id: UUID?
    /// Lower-cased; nil for accounts created by the Telegram bot before a web login is linked.
    @OptionalField(key: "email") public var email: String?
    @OptionalField(key: "password_hash") public var passwordHash: String?
    @Field(key: "display_name") public var displayName: String
    /// `YYYY-MM-DD`.
    @Field(key: "birth_date") public var birthDate: String
    @Field(key: "locale") public var locale: String
    @Field(key: "city") public var city: String
    @OptionalField(key: "district") public var district: String?
    @OptionalField(key: "latitude") public var latitude: Double?
    @OptionalField(key: "longitude") public var longitude: Double?
    @OptionalField(key: "gender") public var gender: String?
    /// Comma-separated genders this person wants to meet (empty: not said yet).
    @Field(key: "seeking") public var seeking: String
    @OptionalField(key: "age_min") public var ageMin: Int?
    @OptionalField(key: "age_max") public var ageMax: Int?
    @Field(key: "consent_dating") public var consentDating: Bool
    @Field(key: "consent_friendship") public var consentFriendship: Bool
    @Field(key: "consent_exchange") public var consentExchange: Bool
    @Field(key: "consent_jobs") public var consentJobs: Bool
    @Field(key: "plan") public var plan: String
    @OptionalField(key: "telegram_user_id") public var telegramUserID: Int64?
    /// Synthetic demo people are never matched with real users.
    @Field(key: "is_demo") public var isDemo: Bool
    @Field(key: "is_active") public var isActive: Bool
    /// Set when a diary showed signs of crisis: nobody is matched with this person until it is cleared.
    @OptionalField(key: "matching_paused_at") public var matchingPausedAt: Date?
    /// Set when the person paused matching themselves: nobody new is proposed to or for them until they resume.
    @OptionalField(key: "paused_at") public var pausedAt: Date?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(
        id: UUID? = nil, email: String?, passwordHash: String?, displayName: String, birthDate: CalendarDate,
        locale: KindredLocale, city: String
    ) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.displayName = displayName
        self.birthDate = birthDate.description
        self.locale = locale.rawValue
        self.city = city
        self.seeking = ""
        self.consentDating = false
        self.consentFriendship = false
        self.consentExchange = false
        self.consentJobs = false
        self.plan = Plan.free.rawValue
        self.isDemo = false
        self.isActive = true
    }

    public var kindredLocale: KindredLocale { KindredLocale(rawValue: locale) ?? .ru }

    public var consents: Consents {
        get {
            Consents(dating: consentDating, friendship: consentFriendship, exchange: consentExchange, jobs: consentJobs)
        }
        set {
            consentDating = newValue.dating
            consentFriendship = newValue.friendship
            consentExchange = newValue.exchange
            consentJobs = newValue.jobs
        }
    }

    public var seekingGenders: [Gender] {
        get { seeking.split(separator: ",").compactMap { Gender(rawValue: String($0)) } }
        set { seeking = newValue.map(\.rawValue).joined(separator: ",") }
    }
}
