import Foundation

/// Where a diary entry stands in the pipeline. Later stages are appended as the pipeline grows;
/// the raw values are stored and returned by the API, so they never change meaning.
public enum DiaryStatus: String, Codable, Sendable, CaseIterable {
    /// Accepted and durably queued; nothing has run yet.
    case received
    /// Audio is being converted to 16 kHz mono PCM.
    case transcoding
    /// Audio is transcoded and waits for a speech model (none is configured, or none could answer after
    /// retries); the recording is kept and transcribed when one is available.
    case readyForAnalysis = "ready_for_analysis"
    /// The speech model is turning the recording into text.
    case transcribing
    /// The local analysis ran; the entry's `analysis` is available to its owner.
    case analyzed
    /// The pipeline gave up on this entry (after retries); `error` says why.
    case failed
}

/// How the person gave the entry.
public enum DiaryKind: String, Codable, Sendable, CaseIterable {
    case text
    case audio
}

/// Limits on what a diary may be. A diary is meant to take one or two minutes; five is generous.
public enum DiaryLimits {
    public static let maximumAudioBytes = 20 * 1024 * 1024
    public static let maximumAudioSeconds = 300.0
    public static let maximumTextCharacters = 20_000
    /// Sample rate and channel count of the PCM every later stage reads (Whisper expects 16 kHz mono).
    public static let pcmSampleRate = 16_000
}

/// Why a diary was refused or could not be processed.
public enum DiaryError: Error, Sendable, Equatable {
    case emptyText
    case textTooLong(characters: Int, limit: Int)
    case audioTooLarge(bytes: Int, limit: Int)
    case audioTooLong(seconds: Int, limit: Int)
    case unsupportedAudio(detail: String)
    case missingAudio
}

/// What ffprobe (or any prober) found in an uploaded file; trusted instead of the client's headers.
public struct AudioProbeResult: Sendable, Equatable {
    public var formatName: String
    public var durationSeconds: Double?
    public var audioCodecs: [String]

    public init(formatName: String, durationSeconds: Double?, audioCodecs: [String]) {
        self.formatName = formatName
        self.durationSeconds = durationSeconds
        self.audioCodecs = audioCodecs
    }
}

/// The audio containers Kindred accepts: Telegram voice (OGG/Opus), browsers (WebM/Opus), WAV, MP3, M4A.
public enum AudioContainer: String, Sendable, Codable, CaseIterable {
    case ogg
    case webm
    case wav
    case mp3
    case m4a

    /// Decides from a probe result whether the upload is an acceptable diary, and which container it is.
    /// ffprobe names demuxers, not files: `matroska,webm`, `mov,mp4,m4a,3gp,3g2,mj2`.
    public static func accept(_ probe: AudioProbeResult) throws(DiaryError) -> AudioContainer {
        let names = Set(probe.formatName.split(separator: ",").map(String.init))
        let container: AudioContainer
        if names.contains("ogg") {
            container = .ogg
        } else if names.contains("webm") || names.contains("matroska") {
            container = .webm
        } else if names.contains("wav") {
            container = .wav
        } else if names.contains("mp3") {
            container = .mp3
        } else if names.contains("m4a") || names.contains("mp4") || names.contains("mov") {
            container = .m4a
        } else {
            throw .unsupportedAudio(detail: "format \(probe.formatName) is not OGG, WebM, WAV, MP3 or M4A")
        }
        guard !probe.audioCodecs.isEmpty else {
            throw .unsupportedAudio(detail: "the file has no audio stream")
        }
        guard let seconds = probe.durationSeconds, seconds.isFinite, seconds > 0 else {
            throw .unsupportedAudio(detail: "the duration of the recording could not be read")
        }
        guard seconds <= DiaryLimits.maximumAudioSeconds else {
            throw .audioTooLong(seconds: Int(seconds.rounded(.up)), limit: Int(DiaryLimits.maximumAudioSeconds))
        }
        return container
    }
}

/// Validates a typed diary. Text is kept as given (only trimmed); the limit protects the pipeline.
public func validatedDiaryText(_ raw: String) throws(DiaryError) -> String {
    let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { throw .emptyText }
    guard text.count <= DiaryLimits.maximumTextCharacters else {
        throw .textTooLong(characters: text.count, limit: DiaryLimits.maximumTextCharacters)
    }
    return text
}
