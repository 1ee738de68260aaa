import Foundation
import KindredCore
import KindredStore
import Logging

/// The diary pipeline job: audio → 16 kHz mono WAV (ffmpeg); text → local analysis (sealed), and a
/// crisis in it pauses the person's matching in the same transaction. Recordings wait at
/// `ready_for_analysis` until transcription exists. Later stages (transcription, profile update) append
/// here. Idempotent: running it again after a crash finds the work done and does nothing twice.
struct DiaryPipelineHandler: JobHandler {
    let diaries: DiaryRepository
    let accounts: AccountRepository
    let audio: AudioTools
    let analyzer: DiaryAnalyzer
    let logger: Logger

    var kind: String { DiaryRepository.pipelineJobKind }

    func handle(_ job: JobQueue.ClaimedJob) async throws {
        let payload = try job.decodePayload(DiaryRepository.PipelinePayload.self)
        guard let diary = try await diaries.diary(payload.diaryID) else {
            // The account was deleted meanwhile: nothing left to do.
            return
        }
        if diary.diaryStatus == .analyzed || diary.diaryStatus == .failed { return }
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
            try await diaries.storePCM(wav, for: diary, then: .readyForAnalysis)
        }
        guard let text = try diaries.text(of: diary) ?? diaries.transcript(of: diary) else {
            if diary.diaryStatus != .readyForAnalysis { try await diaries.setStatus(.readyForAnalysis, of: diary) }
            return
        }
        let analysis = analyzer.analyze(text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await diaries.storeAnalysis(
            try encoder.encode(analysis), for: diary, pauseMatching: analysis.safety.pausesMatching)
        if analysis.safety.pausesMatching {
            accounts.forgetCachedSessions(of: diary.$user.id)
            logger.notice("diary shows signs of crisis: matching paused", metadata: ["diary": "\(payload.diaryID)"])
        }
    }
}
