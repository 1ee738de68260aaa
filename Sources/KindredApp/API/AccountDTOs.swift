import Foundation
import KindredCore
import KindredStore
import Vapor

/// The person as the API shows them to themselves (`GET /api/v1/me`). Absent values are `null`.
struct MeResponse: Content {
    var id: UUID
    var email: String?
    var displayName: String
    var birthDate: String
    var age: Int?
    var locale: String
    var city: String
    var district: String?
    var latitude: Double?
    var longitude: Double?
    var gender: String?
    var seeking: [String]
    var ageRange: AgeRange?
    var consents: Consents
    var plan: String
    var telegramUserId: Int64?
    /// True after a diary showed signs of crisis: nobody is matched with this person meanwhile.
    var matchingPaused: Bool
    /// True while the person paused matching themselves (`PATCH /me {"paused": …}`, the bot's /settings).
    var paused: Bool
    var createdAt: Date?

    struct AgeRange: Codable {
        var min: Int
        var max: Int
    }

    init(_ user: UserRecord, today: CalendarDate = CalendarDate(Date())) {
        id = user.id ?? UUID()
        email = user.email
        displayName = user.displayName
        birthDate = user.birthDate
        age = CalendarDate(user.birthDate)?.age(on: today)
        locale = user.locale
        city = user.city
        district = user.district
        latitude = user.latitude
        longitude = user.longitude
        gender = user.gender
        seeking = user.seekingGenders.map(\.rawValue)
        if let min = user.ageMin, let max = user.ageMax { ageRange = AgeRange(min: min, max: max) }
        consents = user.consents
        plan = user.plan
        telegramUserId = user.telegramUserID
        matchingPaused = user.matchingPausedAt != nil
        paused = user.pausedAt != nil
        createdAt = user.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, email, displayName, birthDate, age, locale, city, district, latitude, longitude, gender, seeking
        case ageRange, consents, plan, telegramUserId, matchingPaused, paused, createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(email, forKey: .email)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(birthDate, forKey: .birthDate)
        try c.encode(age, forKey: .age)
        try c.encode(locale, forKey: .locale)
        try c.encode(city, forKey: .city)
        try c.encode(district, forKey: .district)
        try c.encode(latitude, forKey: .latitude)
        try c.encode(longitude, forKey: .longitude)
        try c.encode(gender, forKey: .gender)
        try c.encode(seeking, forKey: .seeking)
        try c.encode(ageRange, forKey: .ageRange)
        try c.encode(consents, forKey: .consents)
        try c.encode(plan, forKey: .plan)
        try c.encode(telegramUserId, forKey: .telegramUserId)
        try c.encode(matchingPaused, forKey: .matchingPaused)
        try c.encode(paused, forKey: .paused)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// `{"token", "user"}`: the answer to register and login.
struct SessionResponse: Content {
    var token: String
    var tokenType = "Bearer"
    var user: MeResponse
}

/// The profile fields a person may set at registration and change later (`PATCH /api/v1/me`).
/// Parsing and applying are one step, so every rule lives here once.
enum ProfileChanges {
    static let fields: Set<String> = [
        "displayName", "birthDate", "locale", "city", "district", "latitude", "longitude", "gender", "seeking",
        "ageRange", "consents", "paused",
    ]
    static let readOnly: Set<String> = [
        "id", "email", "plan", "telegramUserId", "age", "createdAt", "password", "matchingPaused",
    ]

    /// Applies the members present in `body` to `user`. Explicit `null` clears an optional field.
    static func apply(_ body: JSONObject, to user: UserRecord, today: CalendarDate) throws {
        if body.has("displayName") {
            user.displayName = try AccountRules.normalizedDisplayName(try body.string("displayName"))
        }
        if body.has("birthDate") {
            user.birthDate = try AccountRules.validatedBirthDate(try body.string("birthDate"), today: today).description
        }
        if body.has("locale") { user.locale = try body.enumValue("locale", KindredLocale.self).rawValue }
        if body.has("city") { user.city = try AccountRules.normalizedCity(try body.string("city")) }
        if let district = try body.optionalString("district") {
            user.district = try district.map { try AccountRules.normalizedDistrict($0) }
        }
        let latitude = try body.optionalNumber("latitude")
        let longitude = try body.optionalNumber("longitude")
        if latitude != nil || longitude != nil {
            switch (latitude ?? nil, longitude ?? nil) {
            case (nil, nil):
                user.latitude = nil
                user.longitude = nil
            case (let lat?, let lon?):
                try AccountRules.validateCoordinates(latitude: lat, longitude: lon)
                user.latitude = lat
                user.longitude = lon
            default:
                throw Problem.invalidField("latitude", "latitude and longitude go together")
            }
        }
        if let gender = try body.optionalString("gender") {
            user.gender = try gender.map { try JSONObject.enumValue($0, field: "gender", Gender.self).rawValue }
        }
        if let seeking = try body.optionalArray("seeking") {
            var genders: [Gender] = []
            for item in seeking {
                guard case .string(let raw) = item else {
                    throw Problem.invalidField("seeking", "expected an array of strings")
                }
                let gender = try JSONObject.enumValue(raw, field: "seeking", Gender.self)
                if !genders.contains(gender) { genders.append(gender) }
            }
            user.seekingGenders = genders
        }
        if body.has("ageRange") {
            if case .null = body.members["ageRange"] {
                user.ageMin = nil
                user.ageMax = nil
            } else {
                let range = try body.optionalObject("ageRange") ?? JSONObject(members: [:])
                try range.rejectUnknown(allowed: ["min", "max"])
                guard let min = try range.optionalInteger("min") ?? nil else {
                    throw Problem.missingField("ageRange.min")
                }
                guard let max = try range.optionalInteger("max") ?? nil else {
                    throw Problem.missingField("ageRange.max")
                }
                try AccountRules.validateAgeRange(min: min, max: max)
                user.ageMin = min
                user.ageMax = max
            }
        }
        if let paused = try body.optionalBool("paused") {
            // Pausing again keeps the first moment; resuming clears it.
            user.pausedAt = paused ? (user.pausedAt ?? Date()) : nil
        }
        if let consents = try body.optionalObject("consents") {
            try consents.rejectUnknown(allowed: Set(ConsentDomain.allCases.map(\.rawValue)))
            var updated = user.consents
            for domain in ConsentDomain.allCases {
                if let value = try consents.optionalBool(domain.rawValue) { updated[domain] = value }
            }
            user.consents = updated
        }
    }
}
