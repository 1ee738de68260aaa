import Foundation
import KindredCore
import KindredStore
import Vapor

/// Diary intake and status. A diary answered with 202 is durably stored and queued.
struct DiaryController {
    /// Multipart framing around a 20 MB recording; the recording itself is checked exactly.
    static let maximumBodyBytes = DiaryLimits.maximumAudioBytes + 1024 * 1024

    func create(_ request: Request) async throws -> Response {
        let user = try request.currentUser()
        let userID = try user.requireID()
        let services = request.kindred
        let diary: DiaryRecord
        if let contentType = request.headers.contentType, contentType.type == "multipart" {
            guard contentType.subType == "form-data" else {
                throw Problem(
                    .unsupportedMediaType, "unsupported-media-type",
                    ["expected": "application/json or multipart/form-data", "actual": contentType.serialize()])
            }
            let upload: AudioUpload
            do {
                upload = try request.content.decode(AudioUpload.self)
            } catch {
                throw DiaryError.missingAudio
            }
            let bytes = Data(buffer: upload.audio.data)
            guard !bytes.isEmpty else { throw DiaryError.missingAudio }
            guard bytes.count <= DiaryLimits.maximumAudioBytes else {
                throw DiaryError.audioTooLarge(bytes: bytes.count, limit: DiaryLimits.maximumAudioBytes)
            }
            let probe = try await services.audio.probe(bytes, scratch: try services.diaries.scratchDirectory())
            let container = try AudioContainer.accept(probe)
            diary = try await services.diaries.acceptAudio(
                .init(data: bytes, container: container, seconds: probe.durationSeconds ?? 0), userID: userID)
        } else {
            let body = try request.jsonObject()
            try body.rejectUnknown(allowed: ["text"])
            let text = try validatedDiaryText(try body.string("text"))
            diary = try await services.diaries.acceptText(text, userID: userID)
        }
        request.logger.info(
            "diary accepted", metadata: ["diary": "\(diary.id?.uuidString ?? "?")", "kind": "\(diary.kind)"])
        let response = try await DiaryResponse(diary, text: nil).encodeResponse(for: request)
        response.status = .accepted
        response.headers.replaceOrAdd(
            name: .location, value: "/api/v1/diaries/\(try diary.requireID().uuidString.lowercased())")
        return response
    }

    func show(_ request: Request) async throws -> DiaryResponse {
        let user = try request.currentUser()
        guard let id = request.parameters.get("id", as: UUID.self),
            let diary = try await request.kindred.diaries.diary(id, of: try user.requireID())
        else {
            // Someone else's diary and a missing one look the same: ids do not leak.
            throw Problem.notFound
        }
        var response = try DiaryResponse(diary, repository: request.kindred.diaries)
        if let safety = response.analysis?.safety, safety.level != .none {
            response.help = HelpResponse(safety, user: user, safety: request.kindred.analyzer.safety)
        }
        return response
    }

    func list(_ request: Request) async throws -> DiaryListResponse {
        let user = try request.currentUser()
        let limit = try request.query.get(Int?.self, at: "limit") ?? 20
        guard (1...100).contains(limit) else { throw Problem.invalidField("limit", "between 1 and 100") }
        var before: Date?
        if let raw = try request.query.get(String?.self, at: "before") {
            guard
                let date = ISO8601DateFormatter.withFractions.date(from: raw) ?? ISO8601DateFormatter().date(from: raw)
            else { throw Problem.invalidField("before", "an ISO 8601 date-time") }
            before = date
        }
        let page = try await request.kindred.diaries.diaries(of: try user.requireID(), limit: limit, before: before)
        let next =
            page.count == limit ? page.last?.createdAt.map { ISO8601DateFormatter.withFractions.string(from: $0) } : nil
        return DiaryListResponse(items: page.map { DiaryResponse($0, text: nil) }, nextBefore: next)
    }
}

struct AudioUpload: Content {
    var audio: File
}

/// A diary as its owner sees it.
struct DiaryResponse: Content {
    var id: UUID
    var kind: String
    var status: String
    var text: String?
    var transcript: String?
    var language: String?
    var audio: AudioInfo?
    var error: String?
    /// The local analysis (owner only; `kindred-analysis` format, docs/analysis.md).
    var analysis: DiaryAnalysis?
    /// When the analysis saw signs of crisis: words and places to get help, in the person's language.
    var help: HelpResponse?
    var createdAt: Date?
    var updatedAt: Date?

    struct AudioInfo: Content {
        var container: String?
        var seconds: Double?
        var bytes: Int?
        var transcoded: Bool
        /// The original recording, only in the data export.
        var base64: String?
    }

    /// The entry with its decrypted text and transcript (and, for the export, the recording itself).
    init(_ diary: DiaryRecord, repository: DiaryRepository, includeAudio: Bool = false) throws {
        self.init(diary, text: try repository.text(of: diary), transcript: try repository.transcript(of: diary))
        if let json = try repository.analysisJSON(of: diary) {
            analysis = try JSONDecoder().decode(DiaryAnalysis.self, from: json)
        }
        if includeAudio, audio != nil {
            audio?.base64 = try repository.audio(of: diary)?.base64EncodedString()
        }
    }

    init(_ diary: DiaryRecord, text: String?, transcript: String? = nil) {
        id = diary.id ?? UUID()
        kind = diary.kind
        status = diary.status
        self.text = text
        self.transcript = transcript
        language = diary.language
        if diary.diaryKind == .audio {
            audio = AudioInfo(
                container: diary.audioContainer, seconds: diary.audioSeconds, bytes: diary.audioBytes,
                transcoded: diary.pcmBlob != nil)
        }
        error = diary.error
        createdAt = diary.createdAt
        updatedAt = diary.updatedAt
    }
}

struct DiaryListResponse: Content {
    var items: [DiaryResponse]
    /// Pass as `before` to get the next (older) page; null on the last page.
    var nextBefore: String?
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

/// Help for a person whose diary showed signs of crisis: a warm message and resources, local first.
struct HelpResponse: Content {
    struct Resource: Content {
        var title: String
        var text: String
        var phone: String?
        var url: String?
    }

    var message: String
    var matchingPaused: Bool
    var resources: [Resource]

    init(_ assessment: SafetyAssessment, user: UserRecord, safety: SafetyDetector) {
        let locale = user.kindredLocale
        message = safety.message(for: assessment, locale: locale) ?? ""
        matchingPaused = assessment.pausesMatching
        // Kindred's cities are in Russia; worldwide resources follow the Russian ones.
        resources = safety.resources(for: assessment, region: "RU").map {
            Resource(
                title: $0.title[locale.rawValue] ?? $0.title["en"] ?? "", text: $0.text[locale.rawValue] ?? $0.text["en"] ?? "",
                phone: $0.phone, url: $0.url)
        }
    }
}
