import Fluent
import Foundation
import KindredApp
import KindredCore
import KindredStore
import Testing

@Suite("Diary intake")
struct DiaryAPITests {
    @Test(
        "a typed diary is accepted with 202, is analysed, and is mine alone",
        arguments: Backend.allCases)
    func textDiary(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let anna = try await kindred.register()
            let boris = try await kindred.register()
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: anna.token,
                json: #"{"text":"Сегодня гуляла в парке. Мне нужен чайник."}"#)
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let id = try #require(accepted.json["id"] as? String)
            #expect(accepted.json["status"] as? String == "received")
            #expect(accepted.headers.first(name: "Location") == "/api/v1/diaries/\(id.lowercased())")

            let done = try await kindred.waitForDiary(id, token: anna.token, statuses: ["analyzed"])
            #expect(done["text"] as? String == "Сегодня гуляла в парке. Мне нужен чайник.")
            let analysis = try #require(done["analysis"] as? [String: Any])
            #expect((analysis["needs"] as? [[String: Any]])?.first?["concept"] as? String == "kettle")
            #expect((analysis["language"] as? [String: Any])?["code"] as? String == "ru")
            #expect(done["help"] == nil)
            #expect(done["kind"] as? String == "text")

            let list = try await kindred.request(.GET, "/api/v1/diaries", token: anna.token).json
            let items = try #require(list["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [id])
            #expect(items.first?["text"] == nil, "lists stay light")

            let stranger = try await kindred.request(.GET, "/api/v1/diaries/\(id)", token: boris.token)
            #expect(stranger.status == .notFound)
            #expect(stranger.problemCode == "not-found")
            let nonsense = try await kindred.request(.GET, "/api/v1/diaries/not-a-uuid", token: anna.token)
            #expect(nonsense.status == .notFound)
            let borisList = try await kindred.request(.GET, "/api/v1/diaries", token: boris.token).json
            #expect((borisList["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a diary in crisis pauses matching and answers with help, not matches", arguments: Backend.allCases)
    func crisisPausesMatching(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let account = try await kindred.register()
            #expect(try await kindred.request(.GET, "/api/v1/me", token: account.token).json["matchingPaused"] as? Bool == false)
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, json: #"{"text":"Всё плохо. Я больше не хочу жить."}"#)
            let id = try #require(accepted.json["id"] as? String)
            let done = try await kindred.waitForDiary(id, token: account.token, statuses: ["analyzed"])
            let help = try #require(done["help"] as? [String: Any])
            #expect((help["message"] as? String)?.contains("112") == true)
            #expect(help["matchingPaused"] as? Bool == true)
            #expect((help["resources"] as? [Any])?.isEmpty == false)
            #expect(try await kindred.request(.GET, "/api/v1/me", token: account.token).json["matchingPaused"] as? Bool == true)
        }
    }

    @Test("odd but valid diaries (emoji only, mixed scripts, control characters) are analysed")
    func oddDiaries() async throws {
        try await withKindred { kindred in
            let account = try await kindred.register()
            for text in ["😀😀🎉🔥❤️", "Hello привет 漢字 עברית ÄÖÜ", "abc\u{1}\u{200B}\u{202E} нужен чайник"] {
                let body = try JSONSerialization.data(withJSONObject: ["text": text])
                let accepted = try await kindred.request(
                    .POST, "/api/v1/diaries", token: account.token, body: body, contentType: "application/json")
                #expect(accepted.status == .accepted, "\(text): \(accepted.text)")
                let id = try #require(accepted.json["id"] as? String)
                let done = try await kindred.waitForDiary(id, token: account.token, statuses: ["analyzed", "failed"])
                #expect(done["status"] as? String == "analyzed", "\(text): \(done)")
            }
        }
    }

    @Test("bad diaries are refused with a clear problem and nothing is stored")
    func badTextDiaries() async throws {
        try await withKindred { kindred in
            let account = try await kindred.register()
            let cases: [(String, Int, String)] = [
                (#"{"text":"   "}"#, 422, "empty-diary"),
                (#"{"text":42}"#, 422, "invalid-field"),
                (#"{"note":"hi"}"#, 422, "unknown-field"),
                (#"{"text":"\#(String(repeating: "а", count: 20_001))"}"#, 422, "diary-too-long"),
            ]
            for (body, status, code) in cases {
                let result = try await kindred.request(.POST, "/api/v1/diaries", token: account.token, json: body)
                #expect(Int(result.status.code) == status, "\(code): \(result.text.prefix(300))")
                #expect(result.problemCode == code)
            }
            for (query, status) in [
                ("limit=abc", 400), ("limit=0", 422), ("limit=101", 422), ("before=yesterday", 422),
            ] {
                let result = try await kindred.request(.GET, "/api/v1/diaries?\(query)", token: account.token)
                #expect(Int(result.status.code) == status, "\(query): \(result.text)")
                #expect(result.isProblem, "\(query)")
                #expect(
                    result.json["field"] as? String == String(query.prefix { $0 != "=" }), "\(query): \(result.text)")
            }
            // Bytes that are not UTF-8 are refused before anything is read.
            let garbage = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, body: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]),
                contentType: "application/json")
            #expect(garbage.status == .badRequest)
            #expect(garbage.problemCode == "bad-utf8")
            let unauthenticated = try await kindred.request(.POST, "/api/v1/diaries", json: #"{"text":"hi"}"#)
            #expect(unauthenticated.status == .unauthorized)
            let list = try await kindred.request(.GET, "/api/v1/diaries", token: account.token).json
            #expect((list["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(
        "recordings in every accepted container are probed, sealed and transcoded to 16 kHz mono WAV",
        arguments: ["ogg", "webm", "wav", "mp3", "m4a"])
    func audioDiary(format: String) async throws {
        guard requireAvailable(AudioFixture.ffmpegAvailable, "ffmpeg") else { return }
        try await withKindred { kindred in
            let account = try await kindred.register()
            let recording = try AudioFixture.make(format, seconds: 3)
            // The declared type is deliberately wrong: the server trusts ffprobe, not headers.
            let form = multipart(
                field: "audio", filename: "voice.bin", contentType: "application/octet-stream", data: recording)
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, body: form.body, contentType: form.contentType)
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let id = try #require(accepted.json["id"] as? String)
            let done = try await kindred.waitForDiary(
                id, token: account.token, statuses: ["ready_for_analysis", "failed"])
            #expect(done["status"] as? String == "ready_for_analysis", "\(done)")
            let audio = try #require(done["audio"] as? [String: Any])
            #expect(audio["container"] as? String == format)
            #expect(audio["transcoded"] as? Bool == true)
            #expect(abs((audio["seconds"] as? Double ?? 0) - 3) < 0.2)

            let diaryID = try #require(UUID(uuidString: id))
            let diary = try #require(try await kindred.app.kindred.diaries.diary(diaryID))
            let wav = try #require(try kindred.app.kindred.diaries.pcm(of: diary))
            #expect(String(decoding: wav.prefix(4), as: UTF8.self) == "RIFF")
            let channels = wav.subdata(in: 22..<24).withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
            let rate = wav.subdata(in: 24..<28).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            #expect(channels == 1)
            #expect(rate == 16_000)
            #expect(try kindred.app.kindred.diaries.audio(of: diary) == recording, "the original is kept, sealed")
        }
    }

    @Test("recordings that are too long, too large, not audio, or missing are refused")
    func badRecordings() async throws {
        guard requireAvailable(AudioFixture.ffmpegAvailable, "ffmpeg") else { return }
        try await withKindred { kindred in
            let account = try await kindred.register()
            func send(_ data: Data, field: String = "audio") async throws -> HTTPResult {
                let form = multipart(field: field, filename: "voice.ogg", contentType: "audio/ogg", data: data)
                return try await kindred.request(
                    .POST, "/api/v1/diaries", token: account.token, body: form.body, contentType: form.contentType)
            }
            let long = try await send(try AudioFixture.make("ogg", seconds: 301))
            #expect(long.status == .unprocessableEntity)
            #expect(long.problemCode == "audio-too-long")

            let large = try await send(Data(repeating: 0x4F, count: DiaryLimits.maximumAudioBytes + 1))
            #expect(large.status == .payloadTooLarge)
            #expect(large.problemCode == "audio-too-large")

            let huge = try await send(Data(repeating: 0x4F, count: DiaryLimits.maximumAudioBytes + 2 * 1024 * 1024))
            #expect(huge.status == .payloadTooLarge)
            #expect(huge.isProblem)

            let text = try await send(Data("this is not a recording at all, just text pretending".utf8))
            #expect(text.status == .unsupportedMediaType)
            #expect(text.problemCode == "unsupported-audio")

            let png = try await send(
                Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 100)))
            #expect(png.status == .unsupportedMediaType)

            let wrongField = try await send(try AudioFixture.make("ogg", seconds: 1), field: "file")
            #expect(wrongField.status == .badRequest)
            #expect(wrongField.problemCode == "missing-audio")

            let list = try await kindred.request(.GET, "/api/v1/diaries", token: account.token).json
            #expect((list["items"] as? [Any])?.isEmpty == true, "nothing half-written remains")
            let files =
                FileManager.default.enumerator(atPath: kindred.directory.appendingPathComponent("data/users").path)?
                .allObjects.compactMap { $0 as? String }.filter { $0.hasSuffix(".sealed") } ?? []
            #expect(files.isEmpty, "\(files)")
        }
    }

    @Test("a unique phrase from a diary never appears in plain text on disk")
    func noPlaintextOnDisk() async throws {
        try await withKindred { kindred in
            let account = try await kindred.register()
            let phrase = "marmalade-\(UUID().uuidString.prefix(8))-orchestra"
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, json: #"{"text":"Секрет дня: \#(phrase)"}"#)
            let id = try #require(accepted.json["id"] as? String)
            _ = try await kindred.waitForDiary(id, token: account.token, statuses: ["analyzed"])
            _ = try await kindred.request(.GET, "/api/v1/me/export", token: account.token)
            var scanned = 0
            let enumerator = FileManager.default.enumerator(atPath: kindred.directory.path)
            while let relative = enumerator?.nextObject() as? String {
                let url = kindred.directory.appendingPathComponent(relative)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else { continue }
                let bytes = try Data(contentsOf: url)
                scanned += 1
                #expect(bytes.range(of: Data(phrase.utf8)) == nil, "plain text found in \(relative)")
            }
            #expect(scanned >= 2, "the database and the key file at least")
        }
    }

    @Test("export returns everything, decrypted; deletion removes every row and file", arguments: Backend.allCases)
    func exportAndDelete(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let account = try await kindred.register()
            let other = try await kindred.register()
            let text = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, json: #"{"text":"Хочу научиться играть на гитаре"}"#)
            let textID = try #require(text.json["id"] as? String)
            var audioID: String?
            if AudioFixture.ffmpegAvailable {
                let form = multipart(
                    field: "audio", filename: "v.ogg", contentType: "audio/ogg",
                    data: try AudioFixture.make("ogg", seconds: 1))
                let audio = try await kindred.request(
                    .POST, "/api/v1/diaries", token: account.token, body: form.body, contentType: form.contentType)
                audioID = audio.json["id"] as? String
                _ = try await kindred.waitForDiary(
                    try #require(audioID), token: account.token, statuses: ["ready_for_analysis"])
            }
            _ = try await kindred.request(.POST, "/api/v1/diaries", token: other.token, json: #"{"text":"чужой"}"#)
            _ = try await kindred.waitForDiary(textID, token: account.token, statuses: ["analyzed"])
            for _ in 0..<100 {
                let profile = try await kindred.request(.GET, "/api/v1/me/profile", token: account.token).json
                if profile["version"] as? Int == 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }

            let export = try await kindred.request(.GET, "/api/v1/me/export", token: account.token)
            #expect(export.status == .ok)
            #expect(export.headers.first(name: "Content-Disposition")?.contains("attachment") == true)
            let json = export.json
            #expect((json["user"] as? [String: Any])?["email"] as? String == account.email)
            let diaries = try #require(json["diaries"] as? [[String: Any]])
            #expect(diaries.contains { $0["text"] as? String == "Хочу научиться играть на гитаре" })
            #expect(!diaries.contains { $0["text"] as? String == "чужой" })
            if let audioID {
                let audio = try #require(diaries.first { ($0["id"] as? String) == audioID }?["audio"] as? [String: Any])
                let base64 = try #require(audio["base64"] as? String)
                #expect(Data(base64Encoded: base64)?.prefix(4) == Data("OggS".utf8))
            }
            #expect((json["jobs"] as? [Any])?.count == (audioID == nil ? 1 : 2))
            #expect((json["sessions"] as? [Any])?.count == 1)
            #expect((json["profile"] as? [String: Any])?["version"] as? Int == 1)
            #expect((json["profileVersions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1])

            let userID = try #require(UUID(uuidString: account.id))
            let userFolder = kindred.directory.appendingPathComponent("data/users/\(account.id.lowercased())")
            #expect(FileManager.default.fileExists(atPath: userFolder.path) == (audioID != nil))

            #expect(try await kindred.request(.DELETE, "/api/v1/me", token: account.token).status == .noContent)
            #expect(try await kindred.request(.GET, "/api/v1/me", token: account.token).status == .unauthorized)
            let login = try await kindred.request(
                .POST, "/api/v1/auth/login", json: #"{"email":"\#(account.email)","password":"correct horse"}"#)
            #expect(login.status == .unauthorized)
            let db = kindred.app.db
            #expect(try await UserRecord.find(userID, on: db) == nil)
            #expect(try await DiaryRecord.query(on: db).filter(\.$user.$id == userID).count() == 0)
            #expect(try await AuthTokenRecord.query(on: db).filter(\.$user.$id == userID).count() == 0)
            #expect(try await JobRecord.query(on: db).filter(\.$userID == userID).count() == 0)
            #expect(try await ProfileRecord.query(on: db).filter(\.$id == userID).count() == 0)
            #expect(try await ProfileVersionRecord.query(on: db).filter(\.$userID == userID).count() == 0)
            #expect(!FileManager.default.fileExists(atPath: userFolder.path))
            #expect(try await DiaryRecord.query(on: db).count() == 1, "the other person's diary is untouched")
            #expect(try await kindred.request(.GET, "/api/v1/me", token: other.token).status == .ok)
        }
    }
}
