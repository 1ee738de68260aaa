import Foundation

/// A calendar date without a time zone, as people write their birthday: `YYYY-MM-DD`.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses strictly `YYYY-MM-DD` and rejects dates that do not exist (`2001-02-30`).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CalendarDate.daysIn(month: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date in UTC of a point in time.
    public init(_ date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        self.year = c.year ?? 1970
        self.month = c.month ?? 1
        self.day = c.day ?? 1
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Whole years completed between `self` (a birthday) and `today`.
    public func age(on today: CalendarDate) -> Int {
        var age = today.year - year
        if (today.month, today.day) < (month, day) { age -= 1 }
        return age
    }
}

/// Reasons an account field is refused. Each carries what the person needs to fix it.
public enum AccountError: Error, Sendable, Equatable {
    case invalidEmail
    case passwordTooShort(minimum: Int)
    case passwordTooLong(maximumBytes: Int)
    case invalidDisplayName(maximumLength: Int)
    case invalidBirthDate(String)
    case underage(minimumAge: Int)
    case implausibleBirthDate
    case invalidCity(maximumLength: Int)
    case invalidDistrict(maximumLength: Int)
    case invalidCoordinates
    case invalidAgeRange
}

/// The rules every account obeys, in one place, shared by the API and the bot.
public enum AccountRules {
    /// Kindred is for adults only (DESIGN.md, invariants).
    public static let minimumAge = 18
    public static let maximumAge = 120
    public static let minimumPasswordLength = 8
    /// Bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused.
    public static let maximumPasswordBytes = 72
    public static let maximumDisplayNameLength = 64
    public static let maximumPlaceLength = 100

    /// Normalises an e-mail address (trimmed, lower-cased) or refuses it.
    public static func normalizedEmail(_ raw: String) throws(AccountError) -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw .invalidEmail }
        return email
    }

    public static func validatePassword(_ password: String) throws(AccountError) {
        guard password.count >= minimumPasswordLength else { throw .passwordTooShort(minimum: minimumPasswordLength) }
        guard password.utf8.count <= maximumPasswordBytes else {
            throw .passwordTooLong(maximumBytes: maximumPasswordBytes)
        }
    }

    public static func normalizedDisplayName(_ raw: String) throws(AccountError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= maximumDisplayNameLength,
            !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { throw .invalidDisplayName(maximumLength: maximumDisplayNameLength) }
        return name
    }

    /// Parses a birth date and checks the person is an adult on `today`.
    public static func validatedBirthDate(_ raw: String, today: CalendarDate) throws(AccountError) -> CalendarDate {
        guard let date = CalendarDate(raw) else { throw .invalidBirthDate(raw) }
        let age = date.age(on: today)
        guard age >= 0, age <= maximumAge else { throw .implausibleBirthDate }
        guard age >= minimumAge else { throw .underage(minimumAge: minimumAge) }
        return date
    }

    public static func normalizedCity(_ raw: String) throws(AccountError) -> String {
        let city = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !city.isEmpty, city.count <= maximumPlaceLength else {
            throw .invalidCity(maximumLength: maximumPlaceLength)
        }
        return city
    }

    public static func normalizedDistrict(_ raw: String) throws(AccountError) -> String {
        let district = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !district.isEmpty, district.count <= maximumPlaceLength else {
            throw .invalidDistrict(maximumLength: maximumPlaceLength)
        }
        return district
    }

    public static func validateCoordinates(latitude: Double, longitude: Double) throws(AccountError) {
        guard latitude.isFinite, longitude.isFinite, (-90...90).contains(latitude), (-180...180).contains(longitude)
        else { throw .invalidCoordinates }
    }

    /// The age range of people someone wants to meet: adults only, lower bound first.
    public static func validateAgeRange(min: Int, max: Int) throws(AccountError) {
        guard min >= minimumAge, max <= maximumAge, min <= max else { throw .invalidAgeRange }
    }
}
