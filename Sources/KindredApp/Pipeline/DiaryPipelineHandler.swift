import Foundation
import KindredAI
import KindredCore
import KindredStore
import Logging

/// The diary pipeline job: audio → 16 kHz mono WAV (ffmpeg) → transcript (the speech model, through the
/// gateway); text or transcript → local analysis (sealed), and a crisis in it pauses the person's matching
/// in the same transaction (a voice diary's prosody, read from its PCM, joins the analysis); then the person's profile takes the analysis in (once). Without a speech model recordings wait at `ready_for_analysis`. Idempotent:
/// running it again after a crash finds the finished stages done and does nothing twice.
struct DiaryPipelineHandler: JobHandler {
    let diaries: DiaryRepository
    let accounts: AccountRepository
    let audio: AudioTools
    let analyzer: DiaryAnalyzer
    let profiles: ProfileRepository
    let models: ModelGateway
    let logger: Logger

    var kind: String { DiaryRepository.pipelineJobKind }

    func handle(_ job: JobQueue.ClaimedJob) async throws {
        let payload = try job.decodePayload(DiaryRepository.PipelinePayload.self)
        guard let diary = try await diaries.diary(payload.diaryID) else {
            // The account was deleted meanwhile: nothing left to do.
            return
        }
        if diary.diaryStatus == .failed { return }
        if diary.diaryStatus == .analyzed {
            // A crash between the analysis and the profile update: finish the update now.
            if diary.profileVersion == nil, let json = try diaries.analysisJSON(of: diary) {
                try await profiles.apply(try JSONDecoder().decode(DiaryAnalysis.self, from: json), from: diary)
            }
            return
        }
        if diary.diaryKind == .audio, diary.pcmBlob == nil {
            if diary.diaryStatus != .transcoding {
                try await diaries.setStatus(.transcoding, of: diary)
            }
            guard let original = try diaries.audio(of: diary) else {
                try await diaries.setStatus(.failed, of: diary, error: "the recording is missing")
                throw PermanentJobError("diary \(payload.diaryID) has no recording")
            }
            let wav: Data
            do {
                wav = try await audio.transcodeToPCM(original, scratch: try diaries.scratchDirectory())
            } catch let failure as AudioTools.Failure where job.attempts >= job.maxAttempts {
                try await diaries.setStatus(.failed, of: diary, error: "the recording could not be converted")
                throw PermanentJobError("\(failure)")
            }
            try await diaries.storePCM(wav, for: diary, then: models.hasTranscription ? .transcribing : .readyForAnalysis)
        }
        if diary.diaryKind == .audio, diary.transcriptSealed == nil {
            guard try await transcribe(diary, job: job) else { return }
        }
        guard let text = try diaries.text(of: diary) ?? diaries.transcript(of: diary) else {
            if diary.diaryStatus != .readyForAnalysis { try await diaries.setStatus(.readyForAnalysis, of: diary) }
            return
        }
        // The voice is a second signal (arousal); read from the PCM kept for transcription.
        var prosody: Prosody?
        if diary.diaryKind == .audio, let wav = try diaries.pcm(of: diary) {
            let words = text.split(whereSeparator: \.isWhitespace).count
            prosody = await Task.detached(priority: .utility) { ProsodyReader.read(wav: wav, words: words) }.value
        }
        var analysis = analyzer.analyze(text, prosody: prosody)
        // A model, when one is configured for it, refines the local result; a diary in crisis is not sent.
        if models.hasChatModel, !analysis.safety.pausesMatching {
            analysis = await refine(analysis, text: text, diary: diary)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await diaries.storeAnalysis(
            try encoder.encode(analysis), for: diary, pauseMatching: analysis.safety.pausesMatching)
        if analysis.safety.pausesMatching {
            accounts.forgetCachedSessions(of: diary.$user.id)
            logger.notice("diary shows signs of crisis: matching paused", metadata: ["diary": "\(payload.diaryID)"])
        }
        try await profiles.apply(analysis, from: diary)
    }

    /// The local analysis refined by the model routed for `analysis.refine` (temperature 0, so a retried job
    /// is answered from the cache). Any failure keeps the local result, which is complete on its own.
    private func refine(_ analysis: DiaryAnalysis, text: String, diary: DiaryRecord) async -> DiaryAnalysis {
        do {
            let owner = try await accounts.user(id: diary.$user.id)
            let reply = try await models.chat(
                ChatRequest(
                    messages: AnalysisRefinement.messages(for: text), temperature: 0, maxTokens: 500,
                    responseSchema: try AnalysisRefinement.schema()),
                context: ModelCallContext(
                    task: ModelTask.analysisRefine, userID: diary.$user.id,
                    plan: owner.flatMap { Plan(rawValue: $0.plan) } ?? .free))
            guard let extraction = AnalysisRefinement.parse(reply.value.text) else {
                logger.info("the model's extraction was not the asked-for JSON: the local analysis stands")
                return analysis
            }
            return analyzer.refine(analysis, with: extraction, text: text, tier: reply.tier.rawValue)
        } catch ModelGatewayError.localTask, ModelGatewayError.notConfigured {
            return analysis
        } catch {
            logger.info("analysis refinement skipped: \(error)", metadata: ["diary": "\(diary.id?.uuidString ?? "?")"])
            return analysis
        }
    }

    /// Transcribes a recording and stores the transcript. Returns false when the diary has to wait for a
    /// speech model (none configured, or none answered after every retry): the recording is kept.
    private func transcribe(_ diary: DiaryRecord, job: JobQueue.ClaimedJob) async throws -> Bool {
        guard models.hasTranscription else {
            if diary.diaryStatus != .readyForAnalysis { try await diaries.setStatus(.readyForAnalysis, of: diary) }
            return false
        }
        if diary.diaryStatus != .transcribing { try await diaries.setStatus(.transcribing, of: diary) }
        guard let wav = try diaries.pcm(of: diary) else {
            throw PermanentJobError("diary \(diary.id?.uuidString ?? "?") has no PCM")
        }
        let owner = try await accounts.user(id: diary.$user.id)
        let context = ModelCallContext(
            task: ModelTask.transcription, userID: diary.$user.id, plan: owner.flatMap { Plan(rawValue: $0.plan) } ?? .free)
        do {
            // Whisper detects the language; when it hears neither Russian nor English in a short, unclear
            // recording, the person's own language is the better guess.
            var transcript = try await models.transcribe(
                TranscriptionRequest(audio: wav, filename: "diary.wav", contentType: "audio/wav"), context: context
            ).value
            if let heard = transcript.language, !["ru", "en"].contains(heard), let owner {
                transcript = try await models.transcribe(
                    TranscriptionRequest(
                        audio: wav, filename: "diary.wav", contentType: "audio/wav",
                        languageHint: owner.kindredLocale.rawValue), context: context
                ).value
            }
            try await diaries.storeTranscript(transcript.text, language: transcript.language, for: diary)
            return true
        } catch let failure as ModelGatewayError {
            switch failure {
            case .unavailable, .deferred, .notConfigured:
                guard job.attempts >= job.maxAttempts else { throw failure }
                // Out of retries: the recording waits (it is never lost) instead of failing.
                try await diaries.setStatus(
                    .readyForAnalysis, of: diary, error: "transcription is not available right now")
                logger.warning(
                    "diary waits for a speech model", metadata: ["diary": "\(diary.id?.uuidString ?? "?")", "error": "\(failure)"])
                return false
            case .rejected, .localTask:
                try await diaries.setStatus(.failed, of: diary, error: "the recording could not be transcribed")
                throw PermanentJobError("\(failure)")
            }
        }
    }
}
