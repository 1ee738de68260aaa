import Foundation
import KindredAI
import KindredCore
import Testing

@testable import KindredApp

/// The real local sidecar (llama.cpp with SmolLM2, faster-whisper with Whisper base), started once for the
/// suite from `inference/` into `.build/kindred-inference-test` and left running for the next run
/// (`scripts/test` stops it at the end). Skipped with a reason where it cannot be installed; CI installs it.
enum TestSidecar {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let home = repository.appendingPathComponent(".build/kindred-inference-test").path

    static var settings: ModelSettings {
        var settings = ModelSettings()
        settings.sidecarHome = home
        settings.sidecarSource = repository.appendingPathComponent("inference").path
        return settings
    }

    static let shared = Task<Result<SidecarInfo, Error>, Never> {
        do {
            let sidecar = try InferenceSidecar(settings: settings)
            return .success(try await sidecar.start(detached: true, timeout: .seconds(600)).info)
        } catch {
            return .failure(error)
        }
    }

    /// The running sidecar, or nil (with the reason printed, or recorded as a failure in CI).
    static func info() async -> SidecarInfo? {
        switch await shared.value {
        case .success(let info): return info
        case .failure(let error):
            _ = requireAvailable(false, "the local inference sidecar (\(error))")
            return nil
        }
    }

    static func gateway(_ info: SidecarInfo) throws -> ModelGateway {
        let llm = try #require(info.llm)
        let asr = try #require(info.asr)
        let client = ModelHTTP.client
        return ModelGateway(
            configuration: ModelGatewayConfiguration(
                chat: [
                    .cheap: [
                        ModelEndpoint(
                            provider: OpenAICompatibleProvider(name: "local", baseURL: llm.base_url, apiKey: nil, client: client),
                            model: ModelStack.localChatModel, concurrency: 8, timeout: .seconds(120))
                    ]
                ],
                transcription: [
                    ModelEndpoint(
                        provider: OpenAICompatibleProvider(name: "local", baseURL: asr.base_url, apiKey: nil, client: client),
                        model: ModelStack.localSpeechModel, concurrency: 1, timeout: .seconds(300))
                ]))
    }
}

enum SpeechFixture {
    static var espeakAvailable: Bool { ProcessRunner.resolve("espeak-ng") != nil }
    /// Festival with the Russian voice of `festvox-ru` (espeak-ng's Russian is too robotic for Whisper).
    static var festivalRussianAvailable: Bool {
        ProcessRunner.resolve("text2wave") != nil
            && FileManager.default.fileExists(atPath: "/usr/share/festival/voices/russian/msu_ru_nsh_clunits")
    }

    /// Russian speech synthesised by Festival (`festvox-ru`, voice msu_ru_nsh_clunits), as WAV. text2wave
    /// exits 0 even when it fails, so an empty result is an error here.
    static func russian(_ text: String) async throws -> Data {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("speech-\(UUID().uuidString)")
        let input = base.appendingPathExtension("txt")
        let file = base.appendingPathExtension("wav")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: file)
        }
        try Data(text.utf8).write(to: input)
        let output = try await ProcessRunner.run(
            "text2wave", [input.path, "-o", file.path, "-eval", "(voice_msu_ru_nsh_clunits)"])
        let data = (try? Data(contentsOf: file)) ?? Data()
        guard output.status == 0, data.count > 1_000 else {
            throw ProcessRunner.Failure.launch("text2wave", output.stderrText)
        }
        return data
    }

    /// A recording as Telegram sends voice messages: OGG/Opus, 48 kHz mono.
    static func oggOpus(_ wav: Data) async throws -> Data {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("voice-\(UUID().uuidString)")
        let input = base.appendingPathExtension("wav")
        let file = base.appendingPathExtension("ogg")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: file)
        }
        try wav.write(to: input)
        let output = try await ProcessRunner.run(
            "ffmpeg", ["-nostdin", "-y", "-v", "error", "-i", input.path, "-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-ac", "1", file.path])
        guard output.status == 0 else { throw ProcessRunner.Failure.launch("ffmpeg", output.stderrText) }
        return try Data(contentsOf: file)
    }

    /// English speech synthesised by espeak-ng, as WAV.
    static func english(_ text: String) async throws -> Data {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("speech-\(UUID().uuidString).wav")
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await ProcessRunner.run("espeak-ng", ["-v", "en-us", "-s", "150", "-w", file.path, text])
        guard output.status == 0 else { throw ProcessRunner.Failure.launch("espeak-ng", output.stderrText) }
        return try Data(contentsOf: file)
    }

    /// Word error rate: word-level edit distance over the reference length, ignoring case and punctuation.
    static func wordErrorRate(reference: String, hypothesis: String) -> Double {
        func words(_ text: String) -> [String] {
            text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" }.map(String.init)
        }
        let ref = words(reference)
        let hyp = words(hypothesis)
        guard !ref.isEmpty else { return hyp.isEmpty ? 0 : 1 }
        var previous = Array(0...hyp.count)
        for i in 1...ref.count {
            var current = [i] + Array(repeating: 0, count: hyp.count)
            for j in stride(from: 1, through: hyp.count, by: 1) {
                current[j] = min(
                    previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return Double(previous[hyp.count]) / Double(ref.count)
    }
}

@Suite("local inference sidecar", .serialized)
struct SidecarTests {
    @Test("word error rate counts substitutions, insertions and deletions")
    func wordErrorRate() {
        #expect(SpeechFixture.wordErrorRate(reference: "the cat sat", hypothesis: "The cat sat.") == 0)
        #expect(SpeechFixture.wordErrorRate(reference: "the cat sat", hypothesis: "the dog sat") == 1.0 / 3)
        #expect(SpeechFixture.wordErrorRate(reference: "the cat sat", hypothesis: "the cat") == 1.0 / 3)
        #expect(SpeechFixture.wordErrorRate(reference: "a b", hypothesis: "a b c d") == 1)
    }

    @Test("a JSON-schema chat with SmolLM2 answers JSON that parses and follows the schema")
    func schemaChat() async throws {
        guard let info = await TestSidecar.info() else { return }
        let gateway = try TestSidecar.gateway(info)
        let schema = try ResponseSchema(
            name: "person",
            json: Data(
                """
                {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
                 "hobbies":{"type":"array","items":{"type":"string"},"maxItems":3}},
                 "required":["name","age","hobbies"]}
                """.utf8))
        let reply = try await gateway.chat(
            ChatRequest(
                messages: [
                    .system("You extract facts as JSON."),
                    .user("Anna is 29 and loves hiking and chess."),
                ], temperature: 0, maxTokens: 120, responseSchema: schema),
            context: ModelCallContext(task: ModelTask.analysisRefine))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(reply.value.text.utf8)) as? [String: Any], "\(reply.value.text)")
        #expect(object["name"] is String)
        #expect(object["age"] is Int)
        #expect(object["hobbies"] is [Any])
        #expect(reply.value.usage.completionTokens > 0)
        #expect(reply.provider == "local")

        // The same request again is answered from the cache.
        let again = try await gateway.chat(
            ChatRequest(
                messages: [.system("You extract facts as JSON."), .user("Anna is 29 and loves hiking and chess.")],
                temperature: 0, maxTokens: 120, responseSchema: schema),
            context: ModelCallContext(task: ModelTask.analysisRefine))
        #expect(again.source == .cache)
        #expect(again.value.text == reply.value.text)
    }

    @Test("Whisper base transcribes English speech from espeak-ng with a word error rate of at most 10%")
    func englishTranscription() async throws {
        guard requireAvailable(SpeechFixture.espeakAvailable, "espeak-ng") else { return }
        guard let info = await TestSidecar.info() else { return }
        let gateway = try TestSidecar.gateway(info)
        let sentence = "I need a new kettle for my kitchen, and tomorrow I will go hiking with my friends."
        let audio = try await SpeechFixture.english(sentence)
        let reply = try await gateway.transcribe(
            TranscriptionRequest(audio: audio, filename: "speech.wav", contentType: "audio/wav"),
            context: ModelCallContext(task: ModelTask.transcription))
        let wer = SpeechFixture.wordErrorRate(reference: sentence, hypothesis: reply.value.text)
        print("◇ Whisper base heard: \"\(reply.value.text)\" (WER \(String(format: "%.2f", wer)))")
        #expect(wer <= 0.10, "heard \"\(reply.value.text)\"")
        #expect(reply.value.language == "en")
    }

    @Test("a voice diary goes through transcription into the analysis: the need in it is noticed")
    func voiceDiaryPipeline() async throws {
        guard requireAvailable(SpeechFixture.espeakAvailable, "espeak-ng"),
            requireAvailable(AudioFixture.ffmpegAvailable, "ffmpeg")
        else { return }
        guard await TestSidecar.info() != nil else { return }
        try await withKindred(
            environment: [
                "KINDRED_INFERENCE": "on", "KINDRED_INFERENCE_HOME": TestSidecar.home,
                "KINDRED_INFERENCE_SOURCE": TestSidecar.settings.sidecarSource!,
            ]
        ) { kindred in
            #expect(kindred.app.kindred.models.hasTranscription)
            let account = try await kindred.register()
            let audio = try await SpeechFixture.english("I really need a kettle. Mine broke this morning.")
            let form = multipart(field: "audio", filename: "voice.wav", contentType: "audio/wav", data: audio)
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, body: form.body, contentType: form.contentType)
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let id = try #require(accepted.json["id"] as? String)
            let done = try await kindred.waitForDiary(
                id, token: account.token, statuses: ["analyzed", "failed", "ready_for_analysis"],
                timeout: .seconds(180))
            #expect(done["status"] as? String == "analyzed", "\(done)")
            let transcript = (done["transcript"] as? String ?? "").lowercased()
            #expect(transcript.contains("kettle"), "\(transcript)")
            #expect(done["language"] as? String == "en")
            let analysis = try #require(done["analysis"] as? [String: Any])
            let needs = analysis["needs"] as? [[String: Any]] ?? []
            #expect(needs.contains { $0["concept"] as? String == "kettle" }, "\(analysis)")
            // The voice itself was read too: espeak-ng speaks at a steady pitch, with speech and pauses.
            let prosody = try #require(analysis["prosody"] as? [String: Any], "\(analysis)")
            #expect((prosody["speechSeconds"] as? Double ?? 0) > 0.5)
            #expect((prosody["pitchHz"] as? Double).map { (60...400).contains($0) } ?? false, "\(prosody)")
        }
    }

    @Test("voice messages to the bot, in English (espeak-ng) and Russian (Festival), are transcribed and the need in each is noticed")
    func telegramVoiceDiaries() async throws {
        guard requireAvailable(SpeechFixture.espeakAvailable, "espeak-ng"),
            requireAvailable(SpeechFixture.festivalRussianAvailable, "festival with festvox-ru"),
            requireAvailable(AudioFixture.ffmpegAvailable, "ffmpeg")
        else { return }
        guard await TestSidecar.info() != nil else { return }
        let english = try await SpeechFixture.oggOpus(try await SpeechFixture.english("I really need a kettle. Mine broke this morning."))
        // «чайник» with its stress marked, as Festival's Russian voice needs for a clear word.
        let russian = try await SpeechFixture.oggOpus(try await SpeechFixture.russian("Мне очень нужен ч+айник. Старый сломался."))
        try await withTelegramDouble { double, _ in
            try await withKindred(
                environment: TelegramBotTests.environment(
                    double,
                    [
                        "KINDRED_INFERENCE": "on", "KINDRED_INFERENCE_HOME": TestSidecar.home,
                        "KINDRED_INFERENCE_SOURCE": TestSidecar.settings.sidecarSource!,
                    ])
            ) { kindred in
                #expect(kindred.app.kindred.models.hasTranscription)
                let bot = TelegramBotTests()
                for (user, audio, locale, word) in [
                    (TestUser(id: 5_550_010, firstName: "Kate", languageCode: "en"), english, KindredLocale.en, "kettle"),
                    (TestUser(id: 5_550_011, firstName: "Вера", languageCode: "ru"), russian, KindredLocale.ru, "чайник"),
                ] {
                    try await bot.onboard(double, user, language: locale)
                    _ = double.sendVoice(from: user, fileData: audio, duration: 4)
                    let summary = try await double.waitForMessage(to: user.chatID, timeout: .seconds(180)) {
                        $0.text.hasPrefix(TelegramBotTests.text("bot.summary.header", locale))
                    }
                    #expect(summary.text.contains(TelegramBotTests.text("bot.summary.needs", locale, ["items": word])), "\(summary)")
                    // The progress message went through transcription to "understood".
                    let progress = try #require(
                        double.sentMessages(to: user.chatID).first {
                            $0.versions.first == TelegramBotTests.text("bot.progress.received", locale)
                        })
                    #expect(progress.versions.contains(TelegramBotTests.text("bot.progress.transcribing", locale)), "\(progress.versions)")
                    #expect(progress.text == TelegramBotTests.text("bot.progress.understood", locale))
                }
            }
        }
    }
}
