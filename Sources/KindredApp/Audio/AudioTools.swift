import Foundation
import KindredCore

/// ffprobe and ffmpeg, the two tools every recording goes through. Uploaded bytes are written to a
/// private memory-backed scratch file only while a tool reads them, then removed.
public struct AudioTools: Sendable {
    public var ffmpeg: String
    public var ffprobe: String

    public init(ffmpeg: String = "ffmpeg", ffprobe: String = "ffprobe") {
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
    }

    public enum Failure: Error, CustomStringConvertible {
        case toolFailed(tool: String, status: Int32, stderr: String)

        public var description: String {
            switch self {
            case .toolFailed(let tool, let status, let stderr): "\(tool) exited with \(status): \(stderr)"
            }
        }
    }

    /// Whether both tools can be found.
    public var available: Bool {
        ProcessRunner.resolve(ffmpeg) != nil && ProcessRunner.resolve(ffprobe) != nil
    }

    /// Reads what the file really is, regardless of what the client claimed.
    public func probe(_ data: Data, scratch: URL) async throws -> AudioProbeResult {
        try await withScratchFile(data, in: scratch) { file in
            let output = try await ProcessRunner.run(
                ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file.path])
            guard output.status == 0 else {
                // ffprobe refuses files it cannot parse: that is bad input, not a server failure.
                throw DiaryError.unsupportedAudio(detail: "the file could not be read as audio")
            }
            return try Self.parseProbe(output.stdout)
        }
    }

    static func parseProbe(_ json: Data) throws -> AudioProbeResult {
        struct Probe: Decodable {
            // ffprobe's JSON keys are snake_case.
            struct Format: Decodable {
                var formatName: String?
                var duration: String?
                enum CodingKeys: String, CodingKey {
                    case formatName = "format_name"
                    case duration
                }
            }
            struct Stream: Decodable {
                var codecType: String?
                var codecName: String?
                var duration: String?
                enum CodingKeys: String, CodingKey {
                    case codecType = "codec_type"
                    case codecName = "codec_name"
                    case duration
                }
            }
            var format: Format?
            var streams: [Stream]?
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: json), let format = probe.format else {
            throw DiaryError.unsupportedAudio(detail: "the file could not be read as audio")
        }
        let audio = (probe.streams ?? []).filter { $0.codecType == "audio" }
        let duration =
            format.duration.flatMap(Double.init) ?? audio.compactMap { $0.duration.flatMap(Double.init) }.max()
        return AudioProbeResult(
            formatName: format.formatName ?? "unknown", durationSeconds: duration,
            audioCodecs: audio.compactMap(\.codecName))
    }

    /// Converts any accepted recording to 16 kHz mono 16-bit PCM WAV (what Whisper and the prosody
    /// analysis read). Output goes through a pipe, never to disk in plain form.
    public func transcodeToPCM(_ data: Data, scratch: URL) async throws -> Data {
        try await withScratchFile(data, in: scratch) { file in
            let output = try await ProcessRunner.run(
                ffmpeg,
                [
                    "-nostdin", "-hide_banner", "-loglevel", "error", "-i", file.path, "-vn", "-ac", "1", "-ar",
                    "\(DiaryLimits.pcmSampleRate)", "-c:a", "pcm_s16le", "-f", "wav", "pipe:1",
                ])
            guard output.status == 0, output.stdout.count > 44 else {
                throw Failure.toolFailed(tool: "ffmpeg", status: output.status, stderr: output.stderrText)
            }
            return output.stdout
        }
    }

    private func withScratchFile<T: Sendable>(
        _ data: Data, in directory: URL, _ body: (URL) async throws -> T
    ) async throws -> T {
        let file = directory.appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? FileManager.default.removeItem(at: file) }
        return try await body(file)
    }
}
