import AsyncHTTPClient
import Foundation
import SwitchyardDevCluster
import SwitchyardTestSupport
import Testing

/// The monitoring kit in `deploy/`: the alert rules and their promtool unit tests, the Prometheus configuration and the
/// Grafana dashboard, checked against what a live platform (serve, an executor and a scheduler) exports.
@Suite("Monitoring kit (deploy/prometheus, deploy/grafana)")
struct MonitoringKitTests {
    static let prometheus = Promtool.deploy.appending(path: "prometheus")
    static let rulesFile = prometheus.appending(path: "alerts.yml")
    static let ruleTestsFile = prometheus.appending(path: "alerts.test.yml")
    static let grafana = Promtool.deploy.appending(path: "grafana")
    static let dashboardFile = grafana.appending(path: "dashboards/switchyard.json")

    /// The alerts issue 17 asks for, by the name they have in `alerts.yml`.
    static let requiredAlerts: Set<String> = [
        "SwitchyardQueueLagging", "SwitchyardDeadLettersGrowing", "SwitchyardWebhookRejectionsSpike", "SwitchyardCircuitBreakerOpen",
        "SwitchyardDatabaseUnreachable", "SwitchyardNoLeaderScheduler",
    ]

    /// Series that Prometheus makes itself rather than scraping them.
    static let prometheusSeries: Set<String> = ["up"]

    @Test("the alert rules and the Prometheus configuration pass promtool's checks, and the rules pass their unit tests")
    func rulesPassPromtool() async throws {
        let rules = try await Promtool.run(["check", "rules", Self.rulesFile.path])
        #expect(rules.status == 0, "promtool check rules:\n\(rules.output)")
        for configuration in ["prometheus.yml", "dev.yml"] {
            let config = try await Promtool.run(["check", "config", Self.prometheus.appending(path: configuration).path])
            #expect(config.status == 0, "promtool check config \(configuration):\n\(config.output)")
        }
        let tests = try await Promtool.run(["test", "rules", Self.ruleTestsFile.path])
        #expect(tests.status == 0 && tests.output.contains("SUCCESS"), "promtool test rules:\n\(tests.output)")
    }

    @Test("every alert has unit tests where it fires and where it must not, and a rule that never fires fails them")
    func ruleTestsCanFail() async throws {
        let rules = try AlertRules(text: String(contentsOf: Self.rulesFile, encoding: .utf8))
        let names = Set(rules.alerts.map(\.name))
        #expect(rules.alerts.count == rules.text.components(separatedBy: "- alert: ").count - 1, "an alert's expr was not read")
        #expect(names.isSuperset(of: Self.requiredAlerts), "missing: \(Self.requiredAlerts.subtracting(names))")
        let cases = AlertTestCases(text: try String(contentsOf: Self.ruleTestsFile, encoding: .utf8))
        for name in names {
            #expect(cases.firing[name, default: 0] > 0, "\(name) has no test case where it fires")
            #expect(cases.quiet[name, default: 0] > 0, "\(name) has no test case where it must not fire")
        }
        // Each rule replaced by one that never fires: its firing cases must fail the run, naming it.
        for name in names.sorted() {
            let (status, output) = try await Self.testRules(rules.replacingExpression(of: name, with: "vector(0) > 1"))
            #expect(status != 0, "the unit tests still pass with \(name) never firing:\n\(output)")
            #expect(output.contains("alertname: \(name)"), "\(output)")
        }
        // Rules that fire as soon as their condition holds, without waiting out their `for`: the cases inside that
        // wait must notice.
        let hasty = try await Self.testRules(rules.text.replacingOccurrences(of: "for: 5m", with: "for: 0m"))
        #expect(hasty.status != 0 && hasty.output.contains("alertname: SwitchyardQueueLagging"), "\(hasty.output)")
    }

    @Test("the dashboard parses, names the provisioned data source, and every panel's query is valid PromQL")
    func dashboardIsValid() async throws {
        let dashboard = try Dashboard(contentsOf: Self.dashboardFile)
        #expect(dashboard.uid == "switchyard-overview")
        #expect(!dashboard.panels.isEmpty)
        #expect(Set(dashboard.panels.map(\.id)).count == dashboard.panels.count, "panel ids repeat")
        let datasource = try String(contentsOf: Self.grafana.appending(path: "provisioning/datasources/prometheus.yaml"), encoding: .utf8)
        for panel in dashboard.panels {
            #expect(!panel.expressions.isEmpty, "panel \(panel.title) has no query")
            #expect(datasource.contains("uid: \(panel.datasourceUID)"), "panel \(panel.title) names data source \(panel.datasourceUID)")
        }
        // What the issue asks the dashboard to show, each in some panel's query.
        let queries = dashboard.panels.flatMap(\.expressions).joined(separator: "\n")
        for metric in [
            "switchyard_http_requests_total", "switchyard_http_request_duration_seconds_bucket", "switchyard_webhooks_received_total",
            "switchyard_webhooks_rejected_total", "switchyard_jobs", "switchyard_queue_oldest_due_job_age_seconds",
            "switchyard_job_attempts_total{outcome=\"dead\"}", "switchyard_outbound_requests_total", "switchyard_outbound_circuits",
            "switchyard_integrations_health", "switchyard_deliveries_total",
        ] {
            #expect(queries.contains(metric), "no panel queries \(metric)")
        }

        // promtool parses PromQL in recording rules: one per query, with Grafana's interval variables set.
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, expression) in dashboard.panels.flatMap(\.expressions).enumerated() {
            let concrete = ["$__rate_interval", "$__interval", "$__range"].reduce(expression) { $0.replacingOccurrences(of: $1, with: "5m") }
            let quoted = String(decoding: try JSONEncoder().encode(concrete), as: UTF8.self)
            rules += "      - record: dashboard:query_\(index)\n        expr: \(quoted)\n"
        }
        let file = FileManager.default.temporaryDirectory.appending(path: "switchyard-dashboard-\(UUID().uuidString).yml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let checked = try await Promtool.run(["check", "rules", file.path])
        #expect(checked.status == 0, "\(checked.output)\n\(rules)")

        // Compose provisions it: the data source and dashboard provider, and the folder the provider reads.
        let compose = try String(contentsOf: Promtool.deploy.appending(path: "compose.yaml"), encoding: .utf8)
        let provider = try String(contentsOf: Self.grafana.appending(path: "provisioning/dashboards/switchyard.yaml"), encoding: .utf8)
        #expect(compose.contains("./grafana/provisioning:/etc/grafana/provisioning:ro"))
        #expect(compose.contains("./grafana/dashboards:/etc/grafana/dashboards:ro") && provider.contains("path: /etc/grafana/dashboards"))
        #expect(compose.contains("./prometheus:/etc/prometheus:ro"))
    }

    @Test("promtool check metrics accepts the live /metrics of serve, an executor and a scheduler")
    func liveExpositionsPassPromtool() async throws {
        let platform = try await Self.livePlatform.value
        for (process, text) in platform.expositions {
            let result = try await Promtool.run(["check", "metrics"], input: text)
            #expect(result.status == 0, "promtool check metrics on \(process)'s /metrics:\n\(result.output)")
        }
    }

    @Test("every dashboard panel and alert rule queries only metrics that a live platform exports")
    func queriesUseExportedMetrics() async throws {
        let platform = try await Self.livePlatform.value
        var exported = Self.prometheusSeries
        for (_, text) in platform.expositions {
            let exposition = try MetricsTests.Exposition(parsing: text)
            exported.formUnion(exposition.samples.map(\.name))
        }
        let dashboard = try Dashboard(contentsOf: Self.dashboardFile)
        for panel in dashboard.panels {
            for expression in panel.expressions {
                let names = PromQLNames.metrics(in: expression)
                let missing = names.subtracting(exported).sorted()
                #expect(!names.isEmpty, "panel \(panel.title): no metric in \(expression)")
                #expect(missing.isEmpty, "panel \(panel.title) queries \(missing), which no process exported")
            }
        }
        for alert in try AlertRules(text: String(contentsOf: Self.rulesFile, encoding: .utf8)).alerts {
            let names = PromQLNames.metrics(in: alert.expression)
            let missing = names.subtracting(exported).sorted()
            #expect(!names.isEmpty, "alert \(alert.name): no metric in \(alert.expression)")
            #expect(missing.isEmpty, "alert \(alert.name) queries \(missing), which no process exported")
        }
    }

    @Test("while PostgreSQL is down a scheduler's /metrics says database_up 0 and it does not lead; both recover after a restart")
    func databaseDownAndLeaderless() async throws {
        try await FaultCluster.with("monitoring") { fault in
            let port = try LocalPostgresCluster.freeLoopbackPort()
            let scheduler = try SwitchyardProcess(
                ["scheduler", "--metrics-port", "\(port)"],
                environment: fault.environment,
                settings: ["SWITCHYARD_SCHEDULER_TICK_MS": "100"]
            )
            let client = HTTPClient.forLoad(connections: 4)
            do {
                let probe = LoopbackHTTP(client: client, port: port)
                // (database_up, scheduler_leader) on one scrape each.
                let state: @Sendable () async -> [Double?] = {
                    [await probe.metric("switchyard_database_up"), await probe.metric("switchyard_scheduler_leader")]
                }
                try await eventually("the scheduler leads and reaches the database; log: \(scheduler.output)") { await state() == [1, 1] }
                await fault.crash()
                try await eventually("database_up drops to 0 and the scheduler stops leading") { await state() == [0, 0] }
                try await fault.restart()
                try await eventually("database_up is 1 and the scheduler leads again", timeout: .seconds(30)) { await state() == [1, 1] }
            } catch {
                print("scheduler log:\n\(scheduler.output.suffix(4000))")
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            scheduler.signal(SIGTERM)
            #expect(try await scheduler.waitForExit() == 0)
        }
    }

    /// Runs the rule tests against `rules` in place of `alerts.yml`.
    static func testRules(_ rules: String) async throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appending(path: "switchyard-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try rules.write(to: directory.appending(path: "alerts.yml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: ruleTestsFile, to: directory.appending(path: "alerts.test.yml"))
        return try await Promtool.run(["test", "rules", directory.appending(path: "alerts.test.yml").path])
    }

    /// One scrape of each process kind, made once for the suite's tests.
    static let livePlatform = Task { try await LivePlatform.scrape() }
}

/// A platform that has done a bit of everything the dashboard shows: API requests, webhooks recorded and refused, a
/// provider failing until its circuit breaker opens, a job queued, counted by the scheduler and run by an executor.
struct LivePlatform: Sendable {
    var expositions: [(process: String, text: String)]

    static func scrape() async throws -> LivePlatform {
        try await FakeProviderAPI.withRunning { fake in
            var configured = try await TestEnvironment.make()
            configured.configuration.outbound.plainHTTPAllowList = [fake.hostAndPort]
            let environment = configured
            fake.script("/v1/down", [], then: .status(500))
            return try await environment.withApp(.live) { client in
                let tenant = try await client.makeTenant(slug: "monitoring")
                let source = try await WebhookFixture.makeSource(client, key: tenant.key)
                let recorded = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "monitoring-1")
                #expect(recorded.status == .ok)
                let forged = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: "not the secret", deliveryID: "monitoring-2")
                #expect(forged.status == .unauthorized)

                let provider = CustomProviderFixture.json(id: "acme", baseURL: "\(fake.baseURL)/v1")
                #expect(try await client.request(.put, "/v1/providers/acme", key: tenant.key, json: provider).status == .created)
                let integration = try await client.api(key: tenant.key).createIntegration(
                    body: .json(.init(provider: "acme", credentials: .init(additionalProperties: ["api_key": "acme-key"])))
                ).created.body.json.id
                // Each GET is tried three times; the breaker opens after five failures in a row.
                for _ in 0..<3 { _ = try await client.request(.get, "/v1/integrations/\(integration)/proxy/down", key: tenant.key) }
                let serve = try await client.request(.get, "/metrics").text

                // The scheduler first, so that it counts the webhook's job while it is still queued.
                let scheduler = try await scrapeChild(
                    ["scheduler"],
                    environment: environment,
                    settings: ["SWITCHYARD_SCHEDULER_TICK_MS": "100"],
                    until: ["switchyard_jobs{", "switchyard_integrations_health{"]
                )
                let executor = try await scrapeChild(
                    ["executor"],
                    environment: environment,
                    settings: childExecutorSettings(),
                    until: ["switchyard_job_attempts_total{"]
                )
                return LivePlatform(expositions: [("serve", serve), ("scheduler", scheduler), ("executor", executor)])
            }
        }
    }

    /// Starts `switchyard <arguments> --metrics-port`, scrapes it once its exposition contains all of `markers`, and stops it.
    static func scrapeChild(
        _ arguments: [String],
        environment: TestEnvironment,
        settings: [String: String],
        until markers: [String]
    ) async throws -> String {
        let port = try LocalPostgresCluster.freeLoopbackPort()
        let child = try SwitchyardProcess(arguments + ["--metrics-port", "\(port)"], environment: environment, settings: settings)
        var text = ""
        try await eventually("\(arguments) serves \(markers); log: \(child.output)") {
            guard
                let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5)),
                response.status == .ok
            else { return false }
            text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            return markers.allSatisfy { text.contains($0) }
        }
        child.signal(SIGTERM)
        #expect(try await child.waitForExit() == 0)
        return text
    }
}

/// The alerting rules of a rules file, read line by line (the file keeps every `expr` as a `|` block or on one line).
struct AlertRules {
    struct Alert {
        let name: String
        let expression: String
        /// The lines of `expr:` and its block.
        let lines: Range<Int>
    }

    let text: String
    let lines: [String]
    let alerts: [Alert]

    init(text: String) throws {
        self.text = text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var alerts: [Alert] = []
        var current: String?
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            index += 1
            if trimmed.hasPrefix("- alert: ") {
                current = String(trimmed.dropFirst("- alert: ".count))
            } else if trimmed.hasPrefix("expr:"), let name = current {
                let inline = trimmed.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
                var end = index
                var expression = inline
                if inline.hasPrefix("|") || inline.hasPrefix(">") {
                    let indent = Self.indent(line)
                    while end < lines.count, lines[end].trimmingCharacters(in: .whitespaces).isEmpty || Self.indent(lines[end]) > indent { end += 1 }
                    while end > index, lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
                    expression = lines[index..<end].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                }
                guard !expression.isEmpty else { throw TestFailure("alert \(name) has an empty expr") }
                alerts.append(Alert(name: name, expression: expression, lines: (index - 1)..<end))
                current = nil
                index = end
            }
        }
        self.lines = lines
        self.alerts = alerts
    }

    /// The file with the expression of alert `name` replaced by `expression`.
    func replacingExpression(of name: String, with expression: String) -> String {
        guard let alert = alerts.first(where: { $0.name == name }) else { return text }
        var copy = lines
        let indent = String(repeating: " ", count: Self.indent(lines[alert.lines.lowerBound]))
        copy.replaceSubrange(alert.lines, with: ["\(indent)expr: \(expression)"])
        return copy.joined(separator: "\n")
    }

    private static func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
}

/// How many `alert_rule_test` cases of a promtool test file expect each alert to fire, and how many expect silence.
struct AlertTestCases {
    var firing: [String: Int] = [:]
    var quiet: [String: Int] = [:]

    init(text: String) {
        var alert: String?
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("alertname: ") {
                alert = String(trimmed.dropFirst("alertname: ".count))
            } else if trimmed.hasPrefix("exp_alerts:"), let name = alert {
                if trimmed.hasSuffix("[]") { quiet[name, default: 0] += 1 } else { firing[name, default: 0] += 1 }
                alert = nil
            }
        }
    }
}

/// The panels of a Grafana dashboard (rows' nested panels included) and their queries.
struct Dashboard {
    struct Panel {
        let id: Int
        let title: String
        let datasourceUID: String
        let expressions: [String]
    }

    let uid: String
    let panels: [Panel]

    init(contentsOf url: URL) throws {
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw TestFailure("\(url.lastPathComponent) is not a JSON object")
        }
        uid = root["uid"] as? String ?? ""
        var panels: [Panel] = []
        func collect(_ list: [[String: Any]]) throws {
            for object in list {
                if object["type"] as? String == "row" {
                    try collect(object["panels"] as? [[String: Any]] ?? [])
                    continue
                }
                let title = object["title"] as? String ?? "?"
                guard let id = object["id"] as? Int, let datasource = object["datasource"] as? [String: Any], let uid = datasource["uid"] as? String
                else { throw TestFailure("panel \(title) lacks an id or a data source uid") }
                let targets = object["targets"] as? [[String: Any]] ?? []
                panels.append(Panel(id: id, title: title, datasourceUID: uid, expressions: targets.compactMap { $0["expr"] as? String }))
            }
        }
        try collect(root["panels"] as? [[String: Any]] ?? [])
        self.panels = panels
    }
}

/// The metric names a PromQL expression selects: identifiers outside label matchers, ranges and strings that are not
/// functions, keywords, or the labels of `by (...)`, `on (...)` and their kin.
enum PromQLNames {
    static let keywords: Set<String> = ["and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"]
    /// Aggregations, which may be followed by `by (...)` rather than their parenthesis.
    static let aggregations: Set<String> = [
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    ]
    static let labelLists: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    static func metrics(in expression: String) -> Set<String> {
        let characters = Array(expression)
        var names = Set<String>()
        var index = 0
        func isIdentifier(_ character: Character, first: Bool) -> Bool {
            character == "_" || character == ":" || (character.isASCII && character.isLetter) || (!first && character.isASCII && character.isNumber)
        }
        func skip(past closing: Character) {
            while index < characters.count {
                let character = characters[index]
                index += 1
                if character == "\"" || character == "'" || character == "`" {
                    skipString(character)
                } else if character == closing {
                    return
                }
            }
        }
        func skipString(_ quote: Character) {
            while index < characters.count {
                let character = characters[index]
                index += 1
                if character == "\\" {
                    index += 1
                } else if character == quote {
                    return
                }
            }
        }
        func nextNonSpace() -> Character? {
            var look = index
            while look < characters.count, characters[look].isWhitespace { look += 1 }
            return look < characters.count ? characters[look] : nil
        }
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "\"", "'", "`": skipString(character)
            case "{": skip(past: "}")
            case "[": skip(past: "]")
            case "$":
                while index < characters.count, isIdentifier(characters[index], first: false) { index += 1 }
            case _ where character.isNumber || character == ".":
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "." { index += 1 }
            case _ where isIdentifier(character, first: true):
                var name = String(character)
                while index < characters.count, isIdentifier(characters[index], first: false) {
                    name.append(characters[index])
                    index += 1
                }
                if labelLists.contains(name) {
                    if nextNonSpace() == "(" { skip(past: ")") }
                } else if nextNonSpace() != "(", !keywords.contains(name.lowercased()), !aggregations.contains(name) {
                    names.insert(name)
                }
            default: continue
            }
        }
        return names
    }
}
