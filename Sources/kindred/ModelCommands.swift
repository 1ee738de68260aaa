import ArgumentParser
import Foundation
import KindredAI
import KindredApp
import KindredCore
import Vapor

/// `kindred inference start|stop|status`: the local model sidecar.
struct Inference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the local model sidecar (llama.cpp with SmolLM2, faster-whisper with Whisper base).",
        discussion: """
            The sidecar lives in KINDRED_INFERENCE_HOME (default ./kindred-inference): its virtual environment \
            (created on first start from inference/requirements.txt), the assembled models, sidecar.json (where \
            it listens) and sidecar.log. `kindred serve` starts it by itself when no model endpoint is \
            configured, and uses one started here.
            """,
        subcommands: [Start.self, Stop.self, Status.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the sidecar in the background and wait until it answers.")

        func run() async throws {
            let configuration = try loadConfiguration()
            let sidecar = try InferenceSidecar(settings: configuration.models)
            let started = try await sidecar.start(detached: true)
            print(try describe(started.info))
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the sidecar.")

        func run() async throws {
            let configuration = try loadConfiguration()
            let sidecar = try InferenceSidecar(settings: configuration.models)
            print(await sidecar.stop() ? "stopped" : "not running")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print where the sidecar listens and which models it serves (exit 1 when it is not running).")

        func run() async throws {
            let configuration = try loadConfiguration()
            let sidecar = try InferenceSidecar(settings: configuration.models)
            guard let info = await sidecar.running() else {
                print("not running")
                throw ExitCode(1)
            }
            print(try describe(info))
        }
    }
}

func describe(_ info: SidecarInfo) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(info), as: UTF8.self)
}

/// `kindred ai chat|transcribe|stats`: the model gateway from the command line.
struct AI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai",
        abstract: "Talk to the configured models through the gateway, and see what they cost.",
        subcommands: [Chat.self, Transcribe.self, Stats.self])

    struct Chat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one message and print the reply (details on stderr).")

        @ArgumentParser.Argument(help: "The message.")
        var message: String

        @ArgumentParser.Option(help: "A system prompt.")
        var system: String?

        @ArgumentParser.Option(help: "A JSON Schema file: the reply is JSON that follows it.")
        var schema: String?

        @ArgumentParser.Option(help: "Sampling temperature (0 = deterministic, cacheable).")
        var temperature: Double = 0

        @ArgumentParser.Option(help: "Most tokens in the reply.")
        var maxTokens: Int = 256

        @ArgumentParser.Option(help: "The task to route as (chat, advice, judgement, clone.reply, ...).")
        var task: String = ModelTask.chat

        @ArgumentParser.Flag(help: "Print the reply as it is generated.")
        var stream = false

        func run() async throws {
            let configuration = try loadConfiguration()
            var responseSchema: ResponseSchema?
            if let schema {
                guard let data = FileManager.default.contents(atPath: schema) else {
                    throw ValidationError("cannot read \(schema)")
                }
                responseSchema = try ResponseSchema(
                    name: URL(fileURLWithPath: schema).deletingPathExtension().lastPathComponent, json: data)
            }
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(message))
            let request = ChatRequest(
                messages: messages, temperature: temperature, maxTokens: maxTokens, responseSchema: responseSchema)
            try await withModels(configuration) { models in
                let context = ModelCallContext(task: task)
                if stream {
                    for try await event in models.stream(request, context: context) {
                        switch event {
                        case .delta(let text): FileHandle.standardOutput.write(Data(text.utf8))
                        case .finished(let completion):
                            print()
                            printDetails(
                                "\(completion.model): \(completion.usage.promptTokens) + "
                                    + "\(completion.usage.completionTokens) tokens")
                        }
                    }
                    return
                }
                let reply = try await models.chat(request, context: context)
                print(reply.value.text)
                printDetails(
                    "\(reply.tier.rawValue) tier, \(reply.provider) \(reply.model), \(reply.source.rawValue), "
                        + "\(reply.value.usage.promptTokens) + \(reply.value.usage.completionTokens) tokens, "
                        + String(format: "$%.6f", reply.costUSD))
            }
        }
    }

    struct Transcribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Transcribe an audio file and print the text.")

        @ArgumentParser.Argument(help: "An audio file (OGG/Opus, WebM, WAV, MP3, M4A, ...).")
        var file: String

        @ArgumentParser.Option(help: "The language spoken (ru, en); detected when omitted.")
        var language: String?

        func run() async throws {
            let configuration = try loadConfiguration()
            guard let audio = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            try await withModels(configuration) { models in
                let reply = try await models.transcribe(
                    TranscriptionRequest(
                        audio: audio, filename: URL(fileURLWithPath: file).lastPathComponent,
                        contentType: "application/octet-stream", languageHint: language),
                    context: ModelCallContext(task: ModelTask.transcription))
                print(reply.value.text)
                printDetails(
                    "\(reply.provider) \(reply.model), language \(reply.value.language ?? "?"), "
                        + String(format: "%.1f s of audio", reply.value.durationSeconds ?? 0))
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls, cache hits, tokens and cost by task and tier, from the usage ledger.")

        @ArgumentParser.Option(help: "How many days back (today counts as one).")
        var days: Int = 30

        @ArgumentParser.Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            var configuration = try loadConfiguration()
            configuration.models.sidecar = false
            let since = Calendar(identifier: .gregorian).date(byAdding: .day, value: -(max(1, days) - 1), to: Date())!
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            let sinceDay = formatter.string(from: since)
            try await withApplication(configuration, runWorkers: false) { app in
                let rows = try await app.kindred.modelLedger.summary(sinceDay: sinceDay)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                    return
                }
                print(UsageReport(rows: rows, since: sinceDay).table)
            }
        }
    }
}

func printDetails(_ line: String) {
    FileHandle.standardError.write(Data(("— " + line + "\n").utf8))
}

/// Runs `body` with the gateway of a configured application (database for the cache and ledger, the
/// sidecar started if nothing else is configured), then writes the ledger and stops what it started.
func withModels(_ configuration: KindredConfiguration, _ body: (ModelGateway) async throws -> Void) async throws {
    try await withApplication(configuration, runWorkers: false, startSidecar: true) { app in
        do {
            try await body(app.kindred.models)
        } catch {
            await app.kindred.shutDownModels()
            throw error
        }
        await app.kindred.shutDownModels()
    }
}
