import Foundation

/// How a voice diary sounded, computed from its PCM (16-bit mono): loudness, pitch, pauses and speaking
/// rate. Vocal arousal shows in these more than in words — higher and more variable pitch, more intensity
/// variation and faster speech go with high-arousal emotions (joy, anger, fear), the opposite with sadness
/// and calm (Scherer, 2003, "Vocal communication of emotion"; Juslin & Laukka, 2003, Psych. Bulletin).
/// Valence is not reliably audible without a speaker's own baseline, so only arousal is read from the voice.
public struct Prosody: Codable, Sendable, Equatable {
    public var durationSeconds: Double
    /// Seconds in which someone was speaking (frames louder than the noise floor).
    public var speechSeconds: Double
    /// Mean loudness of speech frames, dBFS.
    public var loudnessDB: Double
    /// Standard deviation of speech frames' loudness, dB: expressiveness of intensity.
    public var loudnessVariability: Double
    /// Median fundamental frequency of voiced frames, Hz (nil when too few voiced frames).
    public var pitchHz: Double?
    /// Standard deviation of pitch, semitones: melodic expressiveness.
    public var pitchVariability: Double?
    /// Pauses of 300 ms or longer per minute of recording.
    public var pausesPerMinute: Double
    /// Share of the recording that is silence.
    public var silenceShare: Double
    /// Words per minute of speech (when the transcript's word count is known).
    public var wordsPerMinute: Double?
    /// 0…1, the arousal the voice carries (0.5 is an ordinary, calm-to-lively voice).
    public var arousal: Double
    /// 0…1: how much to trust it — grows with the seconds of speech heard.
    public var confidence: Double
}

public enum ProsodyReader {
    public static let sampleRate = 16_000
    private static let frame = 640  // 40 ms
    private static let hop = 320  // 20 ms

    /// Reads a 16 kHz mono 16-bit WAV (the pipeline's PCM) or raw little-endian samples.
    public static func read(wav: Data, words: Int?) -> Prosody? {
        read(samples: samples(fromWAV: wav), words: words)
    }

    /// The samples of a 16-bit PCM WAV (the `data` chunk), or of raw PCM when there is no RIFF header.
    static func samples(fromWAV data: Data) -> [Int16] {
        let bytes = [UInt8](data)
        var start = 0
        var end = bytes.count
        if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) {
            var offset = 12
            start = bytes.count
            while offset + 8 <= bytes.count {
                let size = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16
                    | Int(bytes[offset + 7]) << 24
                if bytes[offset..<offset + 4].elementsEqual("data".utf8) {
                    start = offset + 8
                    // ffmpeg writing to a pipe leaves the size unknown (0 or 0xFFFFFFFF): read to the end.
                    end = size == 0 || size == 0xFFFF_FFFF ? bytes.count : min(bytes.count, start + size)
                    break
                }
                offset += 8 + size + (size & 1)
            }
        }
        var samples: [Int16] = []
        samples.reserveCapacity(max(0, end - start) / 2)
        var index = start
        while index + 1 < end {
            samples.append(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8))
            index += 2
        }
        return samples
    }

    public static func read(samples: [Int16], words: Int?) -> Prosody? {
        guard samples.count >= frame * 2 else { return nil }
        let signal = samples.map { Float($0) / 32768 }
        var loudness: [Float] = []
        var frames = 0
        var start = 0
        while start + frame <= signal.count {
            var energy: Float = 0
            for index in start..<(start + frame) { energy += signal[index] * signal[index] }
            loudness.append(10 * log10(max(energy / Float(frame), 1e-10)))
            frames += 1
            start += hop
        }
        // Speech: louder than the noise floor (10th percentile) by 15 dB — or, in a recording with hardly a
        // pause, within 10 dB of its loud frames (90th percentile) — and never near-silent (−55 dBFS).
        let sorted = loudness.sorted()
        let floor = sorted[sorted.count / 10]
        let loud = sorted[sorted.count * 9 / 10]
        let threshold = max(min(floor + 15, loud - 10), -55)
        let speech = loudness.map { $0 > threshold }
        let speechFrames = speech.filter { $0 }.count
        let hopSeconds = Double(hop) / Double(sampleRate)
        let duration = Double(samples.count) / Double(sampleRate)
        var pauses = 0
        var run = 0
        var spoken = false
        for isSpeech in speech {
            if isSpeech {
                if spoken, Double(run) * hopSeconds >= 0.3 { pauses += 1 }
                run = 0
                spoken = true
            } else {
                run += 1
            }
        }
        let speechLoudness = zip(loudness, speech).filter(\.1).map { Double($0.0) }
        let loudnessMean = speechLoudness.isEmpty ? Double(sorted.last ?? -100) : mean(speechLoudness)
        var pitches: [Double] = []
        // Every fourth speech frame (80 ms apart) is plenty for the statistics and a quarter of the work.
        for (index, isSpeech) in speech.enumerated() where isSpeech && index % 4 == 0 {
            if let f0 = pitch(signal, at: index * hop) { pitches.append(f0) }
        }
        let speechSeconds = Double(speechFrames) * hopSeconds
        let pitchHz = pitches.count >= 10 ? median(pitches) : nil
        let pitchVariability = pitchHz.map { center in
            standardDeviation(pitches.map { 12 * log2($0 / center) })
        }
        let wordsPerMinute = words.flatMap { words in speechSeconds >= 2 && words > 0 ? Double(words) / speechSeconds * 60 : nil }
        let loudnessVariability = standardDeviation(speechLoudness)
        // Arousal from the voice: each cue as a z-score against ordinary conversational speech (pitch
        // variability ~2.5 ± 1 semitones, intensity variability ~5 ± 2 dB, ~150 ± 40 words per minute of
        // speech), weighted as in the vocal-arousal literature (pitch strongest), squashed to 0…1.
        var z = 0.0
        var weight = 0.0
        if let pitchVariability { z += 0.5 * (pitchVariability - 2.5) / 1.0; weight += 0.5 }
        if speechLoudness.count >= 10 { z += 0.3 * (loudnessVariability - 5) / 2; weight += 0.3 }
        if let wordsPerMinute { z += 0.2 * (wordsPerMinute - 150) / 40; weight += 0.2 }
        let arousal = weight == 0 ? 0.5 : 1 / (1 + exp(-z / weight * 1.2))
        return Prosody(
            durationSeconds: duration, speechSeconds: speechSeconds, loudnessDB: loudnessMean,
            loudnessVariability: loudnessVariability, pitchHz: pitchHz, pitchVariability: pitchVariability,
            pausesPerMinute: duration > 0 ? Double(pauses) / duration * 60 : 0,
            silenceShare: frames == 0 ? 1 : 1 - Double(speechFrames) / Double(frames),
            wordsPerMinute: wordsPerMinute, arousal: arousal,
            confidence: weight == 0 ? 0 : 1 - exp(-speechSeconds / 20))
    }

    /// Fundamental frequency of one 40 ms frame by normalised autocorrelation over 70–400 Hz (the range of
    /// adult speaking voices); nil when the frame is not clearly periodic (unvoiced or noise).
    static func pitch(_ signal: [Float], at start: Int) -> Double? {
        let minLag = sampleRate / 400
        let maxLag = sampleRate / 70
        guard start + frame + maxLag <= signal.count else { return nil }
        var energy: Float = 0
        for index in start..<(start + frame) { energy += signal[index] * signal[index] }
        guard energy > 0 else { return nil }
        var scores = [Float](repeating: 0, count: maxLag + 2)
        signal.withUnsafeBufferPointer { buffer in
            for lag in minLag...maxLag {
                var product: Float = 0
                var shifted: Float = 0
                for index in start..<(start + frame) {
                    product += buffer[index] * buffer[index + lag]
                    shifted += buffer[index + lag] * buffer[index + lag]
                }
                scores[lag] = product / max(sqrt(energy * shifted), 1e-9)
            }
        }
        let best = scores.max() ?? 0
        guard best > 0.6 else { return nil }
        // A period repeats at twice and three times its lag with nearly the same score: take the first
        // peak close to the best, not the best, or the pitch comes out an octave low.
        for lag in minLag...maxLag where scores[lag] >= 0.9 * best && scores[lag] >= scores[lag - 1]
            && scores[lag] >= scores[lag + 1]
        {
            return Double(sampleRate) / Double(lag)
        }
        return nil
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    private static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let average = mean(values)
        return sqrt(values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(values.count - 1))
    }
}
