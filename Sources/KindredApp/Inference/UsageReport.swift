import Foundation
import KindredCore

/// The table `kindred ai stats` prints: per task and tier, calls answered upstream, from the cache and by
/// coalescing, failures and deferrals, tokens spent and saved, and money.
public struct UsageReport {
    public let rows: [ModelUsageSummary]
    public let since: String

    public init(rows: [ModelUsageSummary], since: String) {
        self.rows = rows
        self.since = since
    }

    struct Line {
        var upstream = 0
        var cached = 0
        var coalesced = 0
        var failed = 0
        var deferred = 0
        var tokensSpent = 0
        var tokensSaved = 0
        var usd = 0.0
        var rub = 0.0
    }

    public var table: String {
        var lines: [String: Line] = [:]
        var order: [String] = []
        for row in rows {
            let key = "\(row.task)\t\(row.tier)"
            if lines[key] == nil { order.append(key) }
            var line = lines[key] ?? Line()
            switch ModelUsageEntry.Outcome(rawValue: row.outcome) {
            case .upstream:
                line.upstream += row.calls
                line.tokensSpent += row.promptTokens + row.completionTokens
            case .cacheHit:
                line.cached += row.calls
                line.tokensSaved += row.promptTokens + row.completionTokens
            case .coalesced:
                line.coalesced += row.calls
                line.tokensSaved += row.promptTokens + row.completionTokens
            case .failed: line.failed += row.calls
            case .deferred: line.deferred += row.calls
            case nil: break
            }
            line.usd += row.costUSD
            line.rub += row.costRUB
            lines[key] = line
        }
        let header = ["task", "tier", "upstream", "cache", "coalesced", "failed", "later", "tokens", "saved", "USD", "RUB"]
        var table = [header]
        var total = Line()
        for key in order.sorted() {
            let line = lines[key]!
            let parts = key.split(separator: "\t").map(String.init)
            table.append(
                parts + [
                    "\(line.upstream)", "\(line.cached)", "\(line.coalesced)", "\(line.failed)", "\(line.deferred)",
                    "\(line.tokensSpent)", "\(line.tokensSaved)", String(format: "%.4f", line.usd),
                    String(format: "%.2f", line.rub),
                ])
            total.upstream += line.upstream
            total.cached += line.cached
            total.coalesced += line.coalesced
            total.failed += line.failed
            total.deferred += line.deferred
            total.tokensSpent += line.tokensSpent
            total.tokensSaved += line.tokensSaved
            total.usd += line.usd
            total.rub += line.rub
        }
        table.append([
            "total", "", "\(total.upstream)", "\(total.cached)", "\(total.coalesced)", "\(total.failed)",
            "\(total.deferred)", "\(total.tokensSpent)", "\(total.tokensSaved)", String(format: "%.4f", total.usd),
            String(format: "%.2f", total.rub),
        ])
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        let rendered = table.map { row in
            row.enumerated().map { column, cell in
                column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        return (["model usage since \(since) (UTC)"] + rendered).joined(separator: "\n")
    }
}
