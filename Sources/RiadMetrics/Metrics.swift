/// The kernel's registry of metric sources, and the switches that say which
/// of them are on.
///
/// One per kernel: the application creates it at start-up, gives it to the
/// libraries that register sources (the network stack, the HTTP server) and
/// to the reporters. Like the rest of the kernel it is used from the one
/// event-loop thread only.
///
/// ```swift
/// let metrics = Metrics(tags: [MetricTag("name", "web1")])
/// let http = metrics.source("http", tags: [MetricTag("interface", "service")])
/// let requests = http.counter("requests", help: "Requests answered.")
/// metrics.disable(source: "tcp")
/// metrics.disable(tag: "interface", value: "management")
/// ```
///
/// Switching works as log levels do: rules are kept in the order they were
/// given, and for each source the last rule that matches it wins; a source
/// no rule matches follows `enableAll()`/`disableAll()` (on by default).
/// A rule set again moves to the end. Updating a field of a disabled source
/// costs one branch; its values stay as they were until it is enabled again.
public final class Metrics {
    /// Tags added to every source when encoding (a source's own tag with the
    /// same key wins): the kernel's `name`, for instance.
    public private(set) var tags: [MetricTag]
    /// Every source, in the order they were registered.
    public private(set) var sources: [MetricSource] = []

    private var enabledByDefault: Bool
    private var rules: [Rule] = []

    private struct Rule {
        enum Target {
            case source(String)
            case tag(String, String?)
        }
        let target: Target
        let enable: Bool
    }

    /// A registry whose sources carry `tags`, all on when `enabled`.
    public init(tags: [MetricTag] = [], enabled: Bool = true) {
        self.tags = []
        enabledByDefault = enabled
        for tag in tags { setTag(tag.key, tag.value) }
    }

    /// Sets the kernel-wide tag `key` (replacing its value if it is set).
    public func setTag(_ key: String, _ value: String) {
        tags.removeAll { $0.key.sameBytes(as: key) }
        let index = tags.firstIndex { key.utf8.lexicographicallyPrecedes($0.key.utf8) } ?? tags.count
        tags.insert(MetricTag(key, value), at: index)
        reapplyRules()
    }

    /// Registers a source; `name` and `tags` together must be new.
    public func source(_ name: String, tags: [MetricTag] = []) -> MetricSource {
        let source = MetricSource(name: name, tags: tags, isEnabled: enabledByDefault)
        precondition(
            !sources.contains { $0.name.sameBytes(as: name) && sameTags($0.tags, source.tags) },
            "metric source registered twice with the same tags")
        source.storage.isEnabled = decide(source)
        sources.append(source)
        return source
    }

    // MARK: Switches

    /// Turns on the sources named `name`.
    public func enable(source name: String) { add(Rule(target: .source(name), enable: true)) }
    /// Turns off the sources named `name`.
    public func disable(source name: String) { add(Rule(target: .source(name), enable: false)) }

    /// Turns on the sources with tag `key` (with `value`, if given).
    public func enable(tag key: String, value: String? = nil) {
        add(Rule(target: .tag(key, value), enable: true))
    }

    /// Turns off the sources with tag `key` (with `value`, if given).
    public func disable(tag key: String, value: String? = nil) {
        add(Rule(target: .tag(key, value), enable: false))
    }

    /// Turns every source on and forgets the rules.
    public func enableAll() { reset(true) }
    /// Turns every source off and forgets the rules.
    public func disableAll() { reset(false) }

    private func reset(_ enabled: Bool) {
        enabledByDefault = enabled
        rules.removeAll()
        reapplyRules()
    }

    private func add(_ rule: Rule) {
        rules.removeAll { sameTarget($0.target, rule.target) }
        rules.append(rule)
        reapplyRules()
    }

    private func reapplyRules() {
        for source in sources { source.storage.isEnabled = decide(source) }
    }

    private func decide(_ source: MetricSource) -> Bool {
        for rule in rules.reversed() where matches(rule.target, source) { return rule.enable }
        return enabledByDefault
    }

    private func matches(_ target: Rule.Target, _ source: MetricSource) -> Bool {
        switch target {
        case .source(let name):
            return source.name.sameBytes(as: name)
        case .tag(let key, let value):
            return effectiveTags(of: source).contains { tag in
                tag.key.sameBytes(as: key) && (value.map { tag.value.sameBytes(as: $0) } ?? true)
            }
        }
    }

    private func sameTarget(_ a: Rule.Target, _ b: Rule.Target) -> Bool {
        switch (a, b) {
        case (.source(let x), .source(let y)): return x.sameBytes(as: y)
        case (.tag(let k1, let v1), .tag(let k2, let v2)):
            guard k1.sameBytes(as: k2) else { return false }
            switch (v1, v2) {
            case (nil, nil): return true
            case (let x?, let y?): return x.sameBytes(as: y)
            default: return false
            }
        default: return false
        }
    }

    private func sameTags(_ a: [MetricTag], _ b: [MetricTag]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { $0.key.sameBytes(as: $1.key) && $0.value.sameBytes(as: $1.value) }
    }

    // MARK: Reading

    /// Runs the sampler of every enabled source. Reporters call it before
    /// encoding.
    public func sample() {
        for source in sources where source.isEnabled { source.sampler?() }
    }

    /// The tags a source is reported with: the kernel-wide tags, then its
    /// own (which win over a kernel-wide tag with the same key), sorted by
    /// key as InfluxDB recommends.
    public func effectiveTags(of source: MetricSource) -> [MetricTag] {
        var merged = tags.filter { tag in !source.tags.contains { $0.key.sameBytes(as: tag.key) } }
        for tag in source.tags {
            let index =
                merged.firstIndex { tag.key.utf8.lexicographicallyPrecedes($0.key.utf8) } ?? merged.count
            merged.insert(tag, at: index)
        }
        return merged
    }
}
