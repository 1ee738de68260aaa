import Foundation
import Testing

@testable import KindredCore

@Suite("Prosody from PCM")
struct ProsodyTests {
    static let rate = Double(ProsodyReader.sampleRate)

    /// A voice-like tone: a fundamental with decaying harmonics, its pitch following `f0(t)`.
    static func voiced(seconds: Double, amplitude: Double = 0.3, f0: (Double) -> Double) -> [Int16] {
        var phase = 0.0
        return (0..<Int(seconds * rate)).map { n in
            phase += 2 * Double.pi * f0(Double(n) / rate) / rate
            let value = (1...5).reduce(0.0) { $0 + sin(Double($1) * phase) / Double($1) } * amplitude / 1.5
            return Int16(max(-32767, min(32767, value * 32767)))
        }
    }

    static func silence(seconds: Double) -> [Int16] {
        (0..<Int(seconds * rate)).map { n in Int16((n * 7919) % 41) - 20 }  // a faint noise floor
    }

    @Test("pitch, speech time and pauses of a synthetic voice are measured")
    func measures() async throws {
        let samples = Self.voiced(seconds: 1.5) { _ in 180 } + Self.silence(seconds: 0.6)
            + Self.voiced(seconds: 1.5) { _ in 180 } + Self.silence(seconds: 0.2)
        let prosody = try #require(await offPool { ProsodyReader.read(samples: samples, words: 8) })
        #expect(abs((prosody.pitchHz ?? 0) - 180) < 6, "\(prosody)")
        #expect((prosody.pitchVariability ?? 9) < 0.5)
        #expect(abs(prosody.speechSeconds - 3.0) < 0.25, "\(prosody)")
        #expect(prosody.pausesPerMinute > 0 && abs(prosody.pausesPerMinute - 60 / 3.8) < 1)
        #expect(abs(prosody.durationSeconds - 3.8) < 0.01)
        #expect(abs((prosody.wordsPerMinute ?? 0) - 8 / prosody.speechSeconds * 60) < 0.01)
    }

    @Test("a lively, gliding voice reads as more aroused than a monotone one")
    func arousal() async throws {
        let monotone = try #require(await offPool { ProsodyReader.read(samples: Self.voiced(seconds: 4) { _ in 150 }, words: nil) })
        let lively = try #require(
            await offPool { ProsodyReader.read(samples: Self.voiced(seconds: 4) { t in 160 + 90 * sin(t * 3) }, words: nil) })
        #expect((lively.pitchVariability ?? 0) > (monotone.pitchVariability ?? 0) + 2)
        #expect(lively.arousal > monotone.arousal)
        #expect(lively.confidence > 0 && lively.confidence < 1)
    }

    @Test("the voice's arousal joins the words', weighted by how much of each there is")
    func blended() throws {
        let analyzer = try DiaryAnalyzer()
        let voice = Prosody(
            durationSeconds: 60, speechSeconds: 50, loudnessDB: -20, loudnessVariability: 8, pitchHz: 200,
            pitchVariability: 5, pausesPerMinute: 10, silenceShare: 0.2, wordsPerMinute: 190, arousal: 0.9,
            confidence: 0.9)
        let plain = analyzer.analyze("Сегодня был обычный день, сходила в магазин.", prosody: voice)
        #expect(abs(plain.emotions.arousal - 0.9) < 1e-9, "no emotional words: the voice alone")
        #expect(plain.prosody == voice)
        let text = analyzer.analyze("Так грустно и тоскливо, весь день плакала.")
        let both = analyzer.analyze("Так грустно и тоскливо, весь день плакала.", prosody: voice)
        #expect(both.emotions.arousal > text.emotions.arousal && both.emotions.arousal < 0.9)
    }

    @Test("WAV from a pipe (unknown data size), too short, silent or garbage input never crashes")
    func badInput() {
        var wav = Data("RIFF".utf8) + Data([0xFF, 0xFF, 0xFF, 0xFF]) + Data("WAVEfmt ".utf8)
        wav += Data([16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0])
        wav += Data("data".utf8) + Data([0xFF, 0xFF, 0xFF, 0xFF])
        let samples = Self.voiced(seconds: 1) { _ in 200 }
        wav += samples.withUnsafeBufferPointer { Data(buffer: $0) }
        #expect(ProsodyReader.samples(fromWAV: wav) == samples)
        #expect(ProsodyReader.read(samples: [1, 2, 3], words: 3) == nil)
        let silent = ProsodyReader.read(samples: [Int16](repeating: 0, count: 16_000), words: 0)
        #expect(silent?.pitchHz == nil)
        _ = ProsodyReader.read(wav: Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 31) }), words: nil)
    }
}
