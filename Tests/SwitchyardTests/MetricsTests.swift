import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardMetrics
import SwitchyardTestSupport
import Testing

@Suite("Prometheus /metrics")
struct MetricsTests {
    /// One parsed exposition (text format 0.0.4): families with help and type, and their samples.
    struct Exposition {
        var help: [String: String] = [:]
        var type: [String: String] = [:]
        var samples: [(name: String, labels: [String: String], value: Double)] = []

        init(parsing text: String) throws {
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("# HELP ") {
                    let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                    help[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                } else if line.hasPrefix("# TYPE ") {
                    let parts = line.dropFirst(7).split(separator: " ")
                    guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                        throw TestFailure("bad TYPE line: \(line)")
                    }
                    type[String(parts[0])] = String(parts[1])
                } else if line.hasPrefix("#") {
                    continue
                } else {
                    samples.append(try Self.sample(line))
                }
            }
        }

        /// `name{a="1",b="2"} value`
        static func sample(_ line: Substring) throws -> (name: String, labels: [String: String], value: Double) {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw TestFailure("bad sample line: \(line)")
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return (String(series), [:], value) }
            guard series.hasSuffix("}") else { throw TestFailure("bad labels: \(line)") }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else { throw TestFailure("bad label: \(pair)") }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return (String(series[..<brace]), labels, value)
        }

        /// The family a sample belongs to (histograms expose `_bucket`, `_sum`, `_count`).
        func family(of sample: String) -> String? {
            if type[sample] != nil { return sample }
            for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
                let base = String(sample.dropLast(suffix.count))
                if type[base] == "histogram" || type[base] == "summary" { return base }
            }
            return nil
        }
    }

    @Test("the exposition parses, every family has help text, and requests are labelled by route template")
    func exposition() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "metrics")
            let keyID = try await client.api(key: tenant.key).getMe().ok.body.json.apiKey.id
            _ = try await client.request(.get, "/v1/api-keys/\(keyID)", key: tenant.key)
            _ = try await client.request(.get, "/v1/api-keys/\(UUID())", key: tenant.key)
            _ = try await client.request(.get, "/no/such/route/\(UUID())")

            let response = try await client.request(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let exposition = try Exposition(parsing: response.text)

            for sample in exposition.samples {
                let family = try #require(exposition.family(of: sample.name), "sample \(sample.name) has no TYPE")
                #expect(exposition.help[family]?.isEmpty == false, "\(family) has no help text")
            }
            for family in [
                "switchyard_http_requests_total", "switchyard_http_request_duration_seconds", "switchyard_http_requests_in_flight",
                "switchyard_db_pool_connections_in_use", "switchyard_db_pool_connections_max", "switchyard_build_info",
            ] {
                #expect(exposition.type[family] != nil, "\(family) is missing")
            }
            let requests = exposition.samples.filter { $0.name == "switchyard_http_requests_total" }
            let routes = Set(requests.compactMap { $0.labels["route"] })
            #expect(routes.contains("/v1/api-keys/{key_id}"))
            #expect(routes.allSatisfy { !$0.contains(tenant.id) && !$0.contains(keyID) && !$0.contains("no/such") }, "\(routes)")
            let okKeyReads = requests.first { $0.labels["route"] == "/v1/api-keys/{key_id}" && $0.labels["status_class"] == "2xx" }
            #expect(okKeyReads?.value == 1)
            #expect(requests.contains { $0.labels["route"] == "/v1/api-keys/{key_id}" && $0.labels["status_class"] == "4xx" })
            #expect(exposition.samples.contains { $0.name == "switchyard_build_info" && $0.value == 1 && $0.labels["version"] == "test" })
            let buckets = exposition.samples.filter { $0.name == "switchyard_http_request_duration_seconds_bucket" && $0.labels["route"] == "/v1/me" }
            #expect(buckets.contains { $0.labels["le"] == "+Inf" && $0.value >= 1 })
        }
    }
}
