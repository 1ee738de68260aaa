import ArgumentParser
import Foundation
import KindredApp
import KindredCore

/// `kindred bench …`: measurements quoted in docs/PERFORMANCE.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (numbers for docs/PERFORMANCE.md).", subcommands: [Gateway.self, Analysis.self, Matching.self])

    struct Analysis: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Local analysis of 250-word diaries on one core, Russian and English separately.")

        @ArgumentParser.Option(help: "The labelled set the diaries are assembled from.")
        var file: String = "Tests/Quality/diaries.jsonl"

        @ArgumentParser.Option(help: "Diaries per language.")
        var count: Int = 5_000

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file) (run from the repository, or pass --file)")
            }
            let set = try QualityEvaluation.load(data)
            let analyzer = try DiaryAnalyzer()
            for language in ["ru", "en"] {
                // 250-word diaries made of the set's real snippets, each diary a different mix.
                let snippets = set.filter { $0.lang == language }.map(\.text)
                var diaries: [String] = []
                var index = 0
                for _ in 0..<50 {
                    var words: [Substring] = []
                    while words.count < 250 {
                        words += snippets[index % snippets.count].split(separator: " ")
                        index += 7
                    }
                    diaries.append(words.prefix(250).joined(separator: " "))
                }
                for diary in diaries.prefix(20) { _ = analyzer.analyze(diary) }  // warm up
                let started = ContinuousClock.now
                var words = 0
                for n in 0..<count { words += analyzer.analyze(diaries[n % diaries.count]).style.words }
                let elapsed = (ContinuousClock.now - started).inSeconds
                print(
                    String(
                        format: "%@: %d diaries of 250 words in %.2f s on one core: %.0f diaries/s (%.0f words/s)",
                        language, count, elapsed, Double(count) / elapsed, Double(words) / elapsed))
            }
        }
    }

    struct Gateway: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The model gateway: overhead per call, cache-hit rate, batching through the sidecar, Whisper's real-time factor.")

        @ArgumentParser.Option(help: "Calls for the overhead measurement.")
        var calls: Int = 2000

        @ArgumentParser.Option(help: "Lookups for the cache-hit measurement.")
        var lookups: Int = 200_000

        @ArgumentParser.Option(help: "Concurrent chat requests for the batching measurement (0 skips the sidecar parts).")
        var requests: Int = 32

        @ArgumentParser.Option(help: "Most tokens per reply in the batching measurement.")
        var maxTokens: Int = 48

        @ArgumentParser.Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let configuration = try loadConfiguration()
            var report = GatewayBenchmark.Report()
            let (overhead, hits) = try await GatewayBenchmark.overheadAndCache(calls: calls, cacheLookups: lookups)
            report.overhead = overhead
            report.cacheHitsPerSecond = hits
            if !json {
                print(
                    String(
                        format: "overhead: direct p50 %.3f ms p99 %.3f ms; gateway p50 %.3f ms p99 %.3f ms; overhead p50 %.3f ms (%d calls)",
                        overhead.directP50Milliseconds, overhead.directP99Milliseconds, overhead.gatewayP50Milliseconds,
                        overhead.gatewayP99Milliseconds, overhead.overheadP50Milliseconds, overhead.calls))
                print(String(format: "cache hits: %.0f lookups/s", hits))
            }
            if requests > 0 {
                let sidecar = try InferenceSidecar(settings: configuration.models)
                let started = try await sidecar.start(detached: false)
                defer { if let pid = started.ownedProcess { Task { await sidecar.stop(pid: pid) } } }
                let batching = try await GatewayBenchmark.batching(
                    info: started.info, requests: requests, maxTokens: maxTokens)
                report.batching = batching
                if !json {
                    print(
                        String(
                            format: "batching (%d requests, ≤%d tokens): one by one %.2f s; gateway, all at once %.2f s (×%.2f); server direct, all at once %.2f s (×%.2f); gateway keeps %.0f%%",
                            batching.requests, batching.maxTokens, batching.sequentialSeconds,
                            batching.gatewayConcurrentSeconds, batching.gatewaySpeedup, batching.directConcurrentSeconds,
                            batching.directSpeedup, batching.gatewayKeeps * 100))
                }
                let sentence =
                    "Today I went for a long walk in the park with my sister. We talked about our plans for the summer, "
                    + "and I realised that I really need a new bicycle and someone who can fix the leaking tap in my kitchen."
                let clip = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-bench.wav")
                let synth = Process()
                synth.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                synth.arguments = ["espeak-ng", "-v", "en-us", "-s", "150", "-w", clip.path, sentence]
                try synth.run()
                synth.waitUntilExit()
                if synth.terminationStatus == 0, let audio = try? Data(contentsOf: clip), audio.count > 44 {
                    let rate = audio.subdata(in: 24..<28).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                    let seconds = Double(audio.count - 44) / Double(rate * 2)
                    let whisper = try await GatewayBenchmark.whisper(info: started.info, audio: audio, seconds: seconds)
                    report.whisper = whisper
                    if !json {
                        print(
                            String(
                                format: "whisper base: %.1f s of audio in %.2f s, real-time factor %.3f",
                                whisper.audioSeconds, whisper.processingSeconds, whisper.realTimeFactor))
                        print("  heard: \(whisper.transcript)")
                    }
                } else if !json {
                    print("whisper: skipped (espeak-ng is not installed)")
                }
                if let pid = started.ownedProcess { await sidecar.stop(pid: pid) }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
        }
    }
}

/// `kindred quality`: the local analysis against the labelled set; the numbers in docs/QUALITY.md.
struct Quality: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Precision, recall and F1 of the local analysis on the labelled diary set (docs/QUALITY.md).")

    @ArgumentParser.Option(help: "The labelled set (JSON Lines).")
    var file: String = "Tests/Quality/diaries.jsonl"

    @ArgumentParser.Flag(help: "Print JSON instead of Markdown.")
    var json = false

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file) (run from the repository, or pass --file)")
        }
        let set = try QualityEvaluation.load(data)
        let report = QualityEvaluation.evaluate(set, analyzer: try DiaryAnalyzer())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(report.snippets) snippets from \(file)\n")
            print(QualityEvaluation.markdown(report))
        }
    }
}
