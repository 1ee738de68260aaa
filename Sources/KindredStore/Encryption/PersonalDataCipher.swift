import Crypto
import Foundation

/// Seals personal data (diary text, transcripts, audio) with AES-256-GCM before it reaches the database
/// or the disk. Each sealed value is bound to its context (for example `diary/<id>/text`) as authenticated
/// data, so a sealed value copied into another row or file does not open there.
///
/// Layout: `[version: 1 byte = 1][nonce: 12][ciphertext][tag: 16]`.
public struct PersonalDataCipher: Sendable {
    static let formatVersion: UInt8 = 1
    /// SymmetricKey is immutable after creation, so sharing it across tasks is safe.
    private struct SharedKey: @unchecked Sendable {
        let value: SymmetricKey
    }
    private let shared: SharedKey
    private var key: SymmetricKey { shared.value }

    public init(key: SymmetricKey) {
        self.shared = SharedKey(value: key)
    }

    public func seal(_ plaintext: Data, context: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw CipherError.sealFailed }
        var out = Data(capacity: combined.count + 1)
        out.append(Self.formatVersion)
        out.append(combined)
        return out
    }

    public func seal(_ text: String, context: String) throws -> Data {
        try seal(Data(text.utf8), context: context)
    }

    public func open(_ sealed: Data, context: String) throws -> Data {
        guard sealed.count > 1 + 12 + 16, sealed.first == Self.formatVersion else { throw CipherError.unknownFormat }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw CipherError.openFailed
        }
    }

    public func openText(_ sealed: Data, context: String) throws -> String {
        let data = try open(sealed, context: context)
        guard let text = String(data: data, encoding: .utf8) else { throw CipherError.openFailed }
        return text
    }
}

public enum CipherError: Error, Sendable, CustomStringConvertible {
    case sealFailed
    case unknownFormat
    /// Wrong key, wrong context, or tampered data.
    case openFailed
    case invalidKey(String)
    case keyFile(String)

    public var description: String {
        switch self {
        case .sealFailed: "AES-GCM sealing failed"
        case .unknownFormat: "sealed data has an unknown format"
        case .openFailed: "sealed data could not be opened: wrong key, wrong context or tampered data"
        case .invalidKey(let why): "KINDRED_ENCRYPTION_KEY is invalid: \(why)"
        case .keyFile(let why): "encryption key file problem: \(why)"
        }
    }
}

/// Where the encryption key comes from: `KINDRED_ENCRYPTION_KEY` (32 bytes, base64 or hex), or, in
/// embedded mode, a key file generated once with 0600 permissions.
public enum EncryptionKeySource {
    public static func parse(_ text: String) throws -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = Self.hexBytes(trimmed) {
            return SymmetricKey(data: bytes)
        }
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            return SymmetricKey(data: data)
        }
        throw CipherError.invalidKey("expected 32 bytes as base64 (44 characters) or hex (64 characters)")
    }

    /// Loads the key from `path`, creating it (random, 0600) if the file does not exist yet.
    public static func loadOrCreateKeyFile(at path: String) throws -> SymmetricKey {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            let attributes = try fm.attributesOfItem(atPath: path)
            if let permissions = attributes[.posixPermissions] as? NSNumber, permissions.intValue & 0o077 != 0 {
                throw CipherError.keyFile(
                    "\(path) is readable by others (mode \(String(permissions.intValue, radix: 8))); run chmod 600 \(path)"
                )
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try parse(text)
        }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // Create with 0600 from the start: never a moment when the key is world-readable.
        guard fm.createFile(atPath: path, contents: Data(encoded.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CipherError.keyFile("could not create \(path)")
        }
        return key
    }

    static func hexBytes(_ hex: String) -> Data? {
        var data = Data(capacity: hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
