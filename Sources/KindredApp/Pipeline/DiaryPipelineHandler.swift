import Foundation
import KindredCore
import KindredStore
import Logging

/// The diary pipeline job. Today: audio → 16 kHz mono WAV (ffmpeg), then "ready for analysis"; typed
/// diaries go straight to "ready for analysis". Later stages (transcription, analysis, profile update)
/// append here. Idempotent: running it again after a crash finds the work done and does nothing twice.
struct DiaryPipelineHandler: JobHandler {
    let diaries: DiaryRepository
    let audio: AudioTools
    let logger: Logger

    var kind: String { DiaryRepository.pipelineJobKind }

    func handle(_ job: JobQueue.ClaimedJob) async throws {
        let payload = try job.decodePayload(DiaryRepository.PipelinePayload.self)
        guard let diary = try await diaries.diary(payload.diaryID) else {
            // The account was deleted meanwhile: nothing left to do.
            return
        }
        switch diary.diaryStatus {
        case .readyForAnalysis, .failed:
            return
        case .received, .transcoding:
            break
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
            try await diaries.storePCM(wav, for: diary, then: .readyForAnalysis)
        } else {
            try await diaries.setStatus(.readyForAnalysis, of: diary)
        }
    }
}
