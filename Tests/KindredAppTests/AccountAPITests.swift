import Foundation
import KindredCore
import Testing

@Suite("Accounts API")
struct AccountAPITests {
    @Test("register, read me, log in again, log out; a revoked token is refused", arguments: Backend.allCases)
    func accountLifecycle(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let account = try await kindred.register(email: "Olga.Petrova@Example.com")
            let me = try await kindred.request(.GET, "/api/v1/me", token: account.token)
            #expect(me.status == .ok)
            #expect(me.json["email"] as? String == "olga.petrova@example.com")
            #expect(me.json["displayName"] as? String == "Маша")
            #expect(me.json["locale"] as? String == "ru")
            #expect(me.json["plan"] as? String == "free")
            #expect(me.json["age"] as? Int ?? 0 >= 18)
            #expect((me.json["consents"] as? [String: Bool])?["dating"] == false)
            #expect(me.json.keys.contains("district"), "absent values are explicit nulls")

            let login = try await kindred.request(
                .POST, "/api/v1/auth/login", json: #"{"email":" olga.petrova@example.COM ","password":"correct horse"}"#
            )
            #expect(login.status == .ok)
            let second = try #require(login.json["token"] as? String)
            #expect(second != account.token)

            let wrong = try await kindred.request(
                .POST, "/api/v1/auth/login", json: #"{"email":"olga.petrova@example.com","password":"wrong horse"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.problemCode == "invalid-credentials")
            let nobody = try await kindred.request(
                .POST, "/api/v1/auth/login", json: #"{"email":"nobody@example.com","password":"whatever1"}"#)
            #expect(nobody.status == .unauthorized)
            #expect(nobody.problemCode == "invalid-credentials")

            #expect(try await kindred.request(.POST, "/api/v1/auth/logout", token: account.token).status == .noContent)
            let revoked = try await kindred.request(.GET, "/api/v1/me", token: account.token)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.isProblem)
            #expect(revoked.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(
                try await kindred.request(.GET, "/api/v1/me", token: second).status == .ok, "other sessions live on")
            let missing = try await kindred.request(.GET, "/api/v1/me")
            #expect(missing.status == .unauthorized)
            #expect(missing.problemCode == "unauthorized")
        }
    }

    @Test("adults only: 18 today is accepted, one day short is refused")
    func ageBoundary() async throws {
        try await withKindred { kindred in
            func birthDate(yearsAgo: Int, dayShift: Int) -> String {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                let date = calendar.date(byAdding: DateComponents(year: -yearsAgo, day: dayShift), to: Date())!
                return CalendarDate(date).description
            }
            func register(_ birth: String) async throws -> HTTPResult {
                try await kindred.request(
                    .POST, "/api/v1/auth/register",
                    json: """
                        {"email":"a\(UUID().uuidString.prefix(6))@example.com","password":"secret-pass","displayName":"Ivan",\
                        "birthDate":"\(birth)","locale":"en","city":"Kazan"}
                        """)
            }
            #expect(try await register(birthDate(yearsAgo: 18, dayShift: 0)).status == .created)
            let young = try await register(birthDate(yearsAgo: 18, dayShift: 1))
            #expect(young.status == .unprocessableEntity)
            #expect(young.problemCode == "underage")
            #expect(young.isProblem)
            let fake = try await register("2001-02-30")
            #expect(fake.problemCode == "invalid-birth-date")
        }
    }

    @Test("an e-mail registers once")
    func duplicateEmail() async throws {
        try await withKindred { kindred in
            _ = try await kindred.register(email: "twice@example.com")
            let again = try await kindred.request(
                .POST, "/api/v1/auth/register",
                json: """
                    {"email":"TWICE@example.com","password":"secret-pass","displayName":"Ivan","birthDate":"1990-01-01",\
                    "locale":"en","city":"Kazan"}
                    """)
            #expect(again.status == .conflict)
            #expect(again.problemCode == "email-taken")
        }
    }

    @Test("every kind of bad input gets a 4xx problem that names what was wrong")
    func badInputsAreProblems() async throws {
        try await withKindred { kindred in
            let valid =
                #"{"email":"x@example.com","password":"secret-pass","displayName":"X","birthDate":"1990-01-01","locale":"ru","city":"Kazan"}"#
            let cases: [(String, HTTPResult, Int, String)] = [
                (
                    "malformed JSON",
                    try await kindred.request(.POST, "/api/v1/auth/register", json: #"{"email": "x", "#), 400,
                    "malformed-json"
                ),
                (
                    "not an object", try await kindred.request(.POST, "/api/v1/auth/register", json: "[1,2]"), 400,
                    "malformed-json"
                ),
                (
                    "empty body", try await kindred.request(.POST, "/api/v1/auth/register", json: ""), 400,
                    "malformed-json"
                ),
                (
                    "wrong content type",
                    try await kindred.request(.POST, "/api/v1/auth/register", json: valid, contentType: "text/plain"),
                    415, "unsupported-media-type"
                ),
                (
                    "bad UTF-8",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register", body: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]),
                        contentType: "application/json"), 400, "bad-utf8"
                ),
                (
                    "unknown enum value",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register", json: valid.replacingOccurrences(of: #""ru""#, with: #""de""#)),
                    422, "unknown-value"
                ),
                (
                    "unknown field",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register",
                        json: valid.replacingOccurrences(of: "}", with: #","isAdmin":true}"#)), 422, "unknown-field"
                ),
                (
                    "missing field",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register",
                        json: valid.replacingOccurrences(of: #","city":"Kazan""#, with: "")), 422, "missing-field"
                ),
                (
                    "wrong type",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register", json: valid.replacingOccurrences(of: #""X""#, with: "42")), 422,
                    "invalid-field"
                ),
                (
                    "short password",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register", json: valid.replacingOccurrences(of: "secret-pass", with: "abc")
                    ), 422, "password-too-short"
                ),
                (
                    "bad e-mail",
                    try await kindred.request(
                        .POST, "/api/v1/auth/register",
                        json: valid.replacingOccurrences(of: "x@example.com", with: "not-an-email")), 422,
                    "invalid-email"
                ),
                ("unknown route", try await kindred.request(.GET, "/api/v1/nothing-here"), 404, "not-found"),
            ]
            for (name, result, status, code) in cases {
                #expect(Int(result.status.code) == status, "\(name): \(result.text)")
                #expect(result.isProblem, "\(name): \(result.contentType)")
                #expect(result.problemCode == code, "\(name): \(result.text)")
                #expect((result.json["detail"] as? String)?.isEmpty == false, "\(name)")
                #expect(result.json["status"] as? Int == status, "\(name)")
            }
            let unknown = cases[5].1.json
            #expect(unknown["field"] as? String == "locale")
            #expect((unknown["detail"] as? String)?.contains("ru, en") == true)
        }
    }

    @Test("problems speak the caller's language")
    func problemsAreLocalized() async throws {
        try await withKindred { kindred in
            let english = try await kindred.request(
                .GET, "/api/v1/me", headers: [("Accept-Language", "en-GB,en;q=0.9")])
            let russian = try await kindred.request(.GET, "/api/v1/me", headers: [("Accept-Language", "ru-RU")])
            #expect((english.json["detail"] as? String)?.hasPrefix("Log in first") == true)
            #expect((russian.json["detail"] as? String)?.hasPrefix("Сначала войди") == true)
            #expect(english.headers.first(name: "Content-Language") == "en")
        }
    }

    @Test(
        "PATCH /me changes what a person may change, clears with null, and refuses the rest",
        arguments: Backend.allCases)
    func updateProfile(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let account = try await kindred.register()
            let patch = try await kindred.request(
                .PATCH, "/api/v1/me", token: account.token,
                json: """
                    {"city":"Санкт-Петербург","district":"Петроградский","latitude":59.966,"longitude":30.311,\
                    "gender":"female","seeking":["male","male","nonbinary"],"ageRange":{"min":25,"max":40},\
                    "consents":{"dating":true,"exchange":true},"locale":"en"}
                    """)
            #expect(patch.status == .ok, "\(patch.text)")
            let me = try await kindred.request(.GET, "/api/v1/me", token: account.token).json
            #expect(me["city"] as? String == "Санкт-Петербург")
            #expect(me["district"] as? String == "Петроградский")
            #expect(me["latitude"] as? Double == 59.966)
            #expect(me["gender"] as? String == "female")
            #expect(me["seeking"] as? [String] == ["male", "nonbinary"])
            #expect((me["ageRange"] as? [String: Int]) == ["min": 25, "max": 40])
            #expect(
                (me["consents"] as? [String: Bool]) == [
                    "dating": true, "friendship": false, "exchange": true, "jobs": false,
                ])
            #expect(me["locale"] as? String == "en")

            let cleared = try await kindred.request(
                .PATCH, "/api/v1/me", token: account.token,
                json: #"{"district":null,"latitude":null,"longitude":null,"ageRange":null}"#)
            #expect(cleared.status == .ok)
            #expect(cleared.json["district"] is NSNull)
            #expect(cleared.json["latitude"] is NSNull)
            #expect(cleared.json["ageRange"] is NSNull)

            let refusals: [(String, String)] = [
                (#"{"latitude":91,"longitude":0}"#, "invalid-coordinates"),
                (#"{"latitude":50}"#, "invalid-field"),
                (#"{"plan":"premium"}"#, "invalid-field"),
                (#"{"ageRange":{"min":16,"max":30}}"#, "invalid-age-range"),
                (#"{"gender":"robot"}"#, "unknown-value"),
                (#"{"consents":{"dating":"yes"}}"#, "invalid-field"),
                (#"{"birthDate":"2015-01-01"}"#, "underage"),
                (#"{"favouriteColour":"red"}"#, "unknown-field"),
            ]
            for (body, code) in refusals {
                let result = try await kindred.request(.PATCH, "/api/v1/me", token: account.token, json: body)
                #expect(result.status.code >= 400 && result.status.code < 500, "\(body)")
                #expect(result.problemCode == code, "\(body): \(result.text)")
            }
            let after = try await kindred.request(.GET, "/api/v1/me", token: account.token).json
            #expect(after["plan"] as? String == "free", "refused changes change nothing")
            #expect(after["birthDate"] as? String == "1994-03-08")
        }
    }
}
