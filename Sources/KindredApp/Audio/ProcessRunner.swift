import Foundation

/// Runs an external program (ffmpeg, ffprobe) without blocking Swift concurrency threads, feeding stdin
/// and collecting stdout and stderr. Cancelling the calling task terminates the program.
struct ProcessRunner: Sendable {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: Data

        var stderrText: String { String(decoding: stderr.suffix(4000), as: UTF8.self) }
    }

    enum Failure: Error, CustomStringConvertible {
        case notFound(String)
        case launch(String, String)

        var description: String {
            switch self {
            case .notFound(let name):
                "\(name) was not found; install it (Debian: apt-get install ffmpeg) or set its path"
            case .launch(let name, let why): "could not start \(name): \(why)"
            }
        }
    }

    /// Resolves a program name against PATH; paths with a slash are taken as they are.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") {
            return FileManager.default.isExecutableFile(atPath: program) ? program : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func run(_ program: String, _ arguments: [String], stdin: Data? = nil) async throws -> Output {
        guard let executable = resolve(program) else { throw Failure.notFound(program) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                let collected = Collected()
                let group = DispatchGroup()
                group.enter()
                group.enter()
                DispatchQueue.global().async {
                    collected.setStdout(outPipe.fileHandleForReading.readDataToEndOfFile())
                    group.leave()
                }
                DispatchQueue.global().async {
                    collected.setStderr(errPipe.fileHandleForReading.readDataToEndOfFile())
                    group.leave()
                }
                do {
                    try process.run()
                } catch {
                    try? outPipe.fileHandleForWriting.close()
                    try? errPipe.fileHandleForWriting.close()
                    continuation.resume(throwing: Failure.launch(program, "\(error)"))
                    return
                }
                if let stdin {
                    DispatchQueue.global().async {
                        // A program that exits early closes its end; the write error is then irrelevant.
                        try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
                        try? inPipe.fileHandleForWriting.close()
                    }
                }
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    group.wait()
                    continuation.resume(
                        returning: Output(
                            status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr))
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func setStdout(_ data: Data) { lock.withLock { out = data } }
    func setStderr(_ data: Data) { lock.withLock { err = data } }
    var stdout: Data { lock.withLock { out } }
    var stderr: Data { lock.withLock { err } }
}
