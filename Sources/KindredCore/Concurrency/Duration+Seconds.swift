/// A `Duration` as plain numbers, for metrics, logs and benchmarks.
extension Duration {
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    public var inMilliseconds: Double { inSeconds * 1000 }
}
