import Foundation
import KindredCore
import Testing

@Suite("Account rules")
struct AccountRulesTests {
    @Test("birth dates are real YYYY-MM-DD dates")
    func calendarDates() {
        #expect(CalendarDate("1990-02-28")?.description == "1990-02-28")
        #expect(CalendarDate("2000-02-29") != nil, "leap year")
        #expect(CalendarDate("1900-02-29") == nil, "not a leap year")
        #expect(CalendarDate("2001-02-30") == nil)
        #expect(CalendarDate("2001-13-01") == nil)
        #expect(CalendarDate("01-01-2001") == nil)
        #expect(CalendarDate("2001-1-01") == nil)
        #expect(CalendarDate("２００１-01-01") == nil, "full-width digits are not ASCII")
    }

    @Test("age counts whole years, birthday included")
    func age() throws {
        let birthday = try #require(CalendarDate("2008-11-25"))
        #expect(birthday.age(on: try #require(CalendarDate("2026-11-25"))) == 18)
        #expect(birthday.age(on: try #require(CalendarDate("2026-11-24"))) == 17)
        let leapling = try #require(CalendarDate("2008-02-29"))
        #expect(leapling.age(on: try #require(CalendarDate("2026-02-28"))) == 17)
        #expect(leapling.age(on: try #require(CalendarDate("2026-03-01"))) == 18)
    }

    @Test("under-18 and implausible birth dates are refused")
    func adultsOnly() throws {
        let today = try #require(CalendarDate("2026-11-25"))
        #expect(try AccountRules.validatedBirthDate("2008-11-25", today: today).description == "2008-11-25")
        #expect(throws: AccountError.underage(minimumAge: 18)) {
            try AccountRules.validatedBirthDate("2008-11-26", today: today)
        }
        #expect(throws: AccountError.implausibleBirthDate) {
            try AccountRules.validatedBirthDate("1850-01-01", today: today)
        }
        #expect(throws: AccountError.implausibleBirthDate) {
            try AccountRules.validatedBirthDate("2030-01-01", today: today)
        }
        #expect(throws: AccountError.invalidBirthDate("yesterday")) {
            try AccountRules.validatedBirthDate("yesterday", today: today)
        }
    }

    @Test("e-mails are trimmed and lower-cased; nonsense is refused")
    func emails() throws {
        #expect(try AccountRules.normalizedEmail("  Anna.K@Mail.RU ") == "anna.k@mail.ru")
        for bad in ["", "anna", "@mail.ru", "anna@", "anna@mail", "anna@.ru", "an na@mail.ru", "a@b@c.ru"] {
            #expect(throws: AccountError.invalidEmail, "\(bad)") { try AccountRules.normalizedEmail(bad) }
        }
    }

    @Test("passwords: at least 8 characters, at most 72 bytes (bcrypt's limit)")
    func passwords() throws {
        try AccountRules.validatePassword("12345678")
        #expect(throws: AccountError.passwordTooShort(minimum: 8)) { try AccountRules.validatePassword("1234567") }
        try AccountRules.validatePassword(String(repeating: "ж", count: 36))
        #expect(throws: AccountError.passwordTooLong(maximumBytes: 72)) {
            try AccountRules.validatePassword(String(repeating: "ж", count: 37))
        }
    }

    @Test("names, places, coordinates and age ranges")
    func fields() throws {
        #expect(try AccountRules.normalizedDisplayName("  Маша ") == "Маша")
        #expect(throws: AccountError.self) { try AccountRules.normalizedDisplayName("   ") }
        #expect(throws: AccountError.self) { try AccountRules.normalizedDisplayName("a\u{0007}b") }
        #expect(throws: AccountError.self) { try AccountRules.normalizedCity(String(repeating: "x", count: 101)) }
        try AccountRules.validateCoordinates(latitude: 55.75, longitude: 37.62)
        #expect(throws: AccountError.invalidCoordinates) {
            try AccountRules.validateCoordinates(latitude: .nan, longitude: 0)
        }
        #expect(throws: AccountError.invalidCoordinates) {
            try AccountRules.validateCoordinates(latitude: 0, longitude: 181)
        }
        try AccountRules.validateAgeRange(min: 18, max: 120)
        #expect(throws: AccountError.invalidAgeRange) { try AccountRules.validateAgeRange(min: 30, max: 25) }
        #expect(throws: AccountError.invalidAgeRange) { try AccountRules.validateAgeRange(min: 17, max: 25) }
    }

    @Test("the language comes from Accept-Language or Telegram's language_code, Russian first")
    func localeNegotiation() {
        #expect(KindredLocale.negotiate(nil) == .ru)
        #expect(KindredLocale.negotiate("en") == .en)
        #expect(KindredLocale.negotiate("en-US,en;q=0.9,ru;q=0.8") == .en)
        #expect(KindredLocale.negotiate("de-DE,ru;q=0.5,en;q=0.7") == .en)
        #expect(KindredLocale.negotiate("uk-UA") == .ru, "unsupported languages fall back to Russian")
    }
}

@Suite("Diary rules")
struct DiaryRulesTests {
    @Test("containers are recognised from what ffprobe found, not from names")
    func containers() throws {
        func probe(_ format: String, _ seconds: Double? = 10, codecs: [String] = ["opus"]) -> AudioProbeResult {
            AudioProbeResult(formatName: format, durationSeconds: seconds, audioCodecs: codecs)
        }
        #expect(try AudioContainer.accept(probe("ogg")) == .ogg)
        #expect(try AudioContainer.accept(probe("matroska,webm")) == .webm)
        #expect(try AudioContainer.accept(probe("wav", codecs: ["pcm_s16le"])) == .wav)
        #expect(try AudioContainer.accept(probe("mp3", codecs: ["mp3"])) == .mp3)
        #expect(try AudioContainer.accept(probe("mov,mp4,m4a,3gp,3g2,mj2", codecs: ["aac"])) == .m4a)
        #expect(throws: DiaryError.self) { try AudioContainer.accept(probe("png_pipe")) }
        #expect(throws: DiaryError.self) { try AudioContainer.accept(probe("ogg", codecs: [])) }
        #expect(throws: DiaryError.self) { try AudioContainer.accept(probe("ogg", nil)) }
        #expect(try AudioContainer.accept(probe("ogg", 300)) == .ogg)
        #expect(throws: DiaryError.audioTooLong(seconds: 301, limit: 300)) {
            try AudioContainer.accept(probe("ogg", 300.2))
        }
    }

    @Test("typed diaries are trimmed, never empty, and bounded")
    func text() throws {
        #expect(try validatedDiaryText("  день  \n") == "день")
        #expect(throws: DiaryError.emptyText) { try validatedDiaryText(" \n\t ") }
        #expect(throws: DiaryError.self) { try validatedDiaryText(String(repeating: "я", count: 20_001)) }
    }
}

@Suite("Localisation")
struct LocalizationTests {
    @Test("Russian and English say the same things")
    func tablesMatch() {
        let localizer = Localizer.shared
        let russian = localizer.keys(for: .ru)
        let english = localizer.keys(for: .en)
        #expect(!russian.isEmpty)
        #expect(
            russian == english,
            "only in ru: \(russian.subtracting(english)); only in en: \(english.subtracting(russian))")
    }

    @Test("every error a person can meet has a message in both languages")
    func errorsHaveMessages() {
        let errors: [any UserFacingError] = [
            AccountError.invalidEmail, AccountError.passwordTooShort(minimum: 8),
            AccountError.passwordTooLong(maximumBytes: 72),
            AccountError.invalidDisplayName(maximumLength: 64), AccountError.invalidBirthDate("x"),
            AccountError.underage(minimumAge: 18), AccountError.implausibleBirthDate,
            AccountError.invalidCity(maximumLength: 100),
            AccountError.invalidDistrict(maximumLength: 100), AccountError.invalidCoordinates,
            AccountError.invalidAgeRange,
            DiaryError.emptyText, DiaryError.textTooLong(characters: 30_000, limit: 20_000),
            DiaryError.audioTooLarge(bytes: 25_000_000, limit: 20_971_520),
            DiaryError.audioTooLong(seconds: 312, limit: 300),
            DiaryError.unsupportedAudio(detail: "x"), DiaryError.missingAudio,
        ]
        for error in errors {
            for locale in KindredLocale.allCases {
                let message = error.message(locale)
                #expect(!message.hasPrefix("error."), "\(error) has no \(locale) text")
                #expect(!message.contains("{"), "\(error) leaves a placeholder in \(locale): \(message)")
            }
        }
        #expect(
            DiaryError.audioTooLong(seconds: 312, limit: 300).message(.ru)
                == "Запись длится 312 с, а можно не больше 5 минут.")
    }
}
