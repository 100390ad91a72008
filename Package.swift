// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

// Generated code's layout and imports are the generator's: its "package import not used" warnings are not ours to fix.
let generatedSwiftSettings = swiftSettings + [.unsafeFlags(["-suppress-warnings"])]

let package = Package(
    name: "switchyard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchyard", targets: ["switchyard"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", exact: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", exact: "1.13.4"),
        // Tests only: the generated client's transport to a live server.
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", exact: "1.5.0"),
        // Tests only: a self-signed certificate for the TLS (h2 over ALPN) test.
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        // Benchmarks only: latency histograms (HDR) for `bench ingest`.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
    ],
    targets: [
        // The binary: argument parsing and process wiring only.
        .executableTarget(
            name: "switchyard",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardAPI", "SwitchyardMetrics", "SwitchyardVault", "SwitchyardOutbound",
                "SwitchyardJobs", "SwitchyardHTTP", "SwitchyardDevCluster", "SwitchyardBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Configuration, domain errors, identifiers and API key format: no I/O.
        .target(
            name: "SwitchyardCore",
            dependencies: [
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Envelope encryption: key-encryption-key providers (the local keyring, AWS KMS over its JSON API with SigV4),
        // data keys, sealed secrets. Its I/O: the keyring file and calls to KMS.
        .target(
            name: "SwitchyardVault",
            dependencies: [
                "SwitchyardCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL: tenant-scoped transactions, migrations, stores. The private dev cluster is SwitchyardDevCluster's.
        .target(
            name: "SwitchyardPostgres",
            dependencies: [
                "SwitchyardCore", "SwitchyardMetrics", "SwitchyardVault",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        // Not production code: the private PostgreSQL cluster (started from the installed binaries, which it may install
        // with apt-get) and what `switchyard dev` sets up on it. Only the `switchyard` executable (`dev`, `bench`) and
        // the tests depend on it; LayeringTests fails when a production target imports it.
        .target(
            name: "SwitchyardDevCluster",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardVault",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Provider catalog: definitions, URL templates with parameter checks, custom-provider validation.
        .target(
            name: "SwitchyardProviders",
            dependencies: ["SwitchyardCore"],
            swiftSettings: swiftSettings
        ),
        // Workflows (issue 16): definitions and their validation, the JSON Logic expressions of conditions and computed
        // values, and the run engine that executes a run step by step.
        .target(
            name: "SwitchyardWorkflows",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardOutbound", "SwitchyardOAuth", "SwitchyardSyncs", "SwitchyardMetrics",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // OAuth 2.0 as a confidential client: authorization requests with state and PKCE, the callback, token
        // exchange, single-flight refresh and revocation.
        .target(
            name: "SwitchyardOAuth",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardProviders", "SwitchyardOutbound",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Inbound webhooks: signature schemes verified over raw bytes, and the group-commit ingest writer.
        .target(
            name: "SwitchyardSyncs",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardProviders", "SwitchyardOutbound", "SwitchyardOAuth",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Destinations: Standard Webhooks signing and the delivery of one event to one endpoint.
        .target(
            name: "SwitchyardDestinations",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardOutbound", "SwitchyardMetrics",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardWebhooks",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardMetrics",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Prometheus registry and the platform's metric families (all with help text).
        .target(
            name: "SwitchyardMetrics",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP shared by the API server and the probe servers of `executor` and `scheduler`: problem documents and
        // `/healthz`, `/readyz`, `/metrics`. The job processes link this, not the API.
        .target(
            name: "SwitchyardHTTP",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The API contract: request and response types generated from openapi/openapi.yaml by scripts/generate-openapi
        // (committed; OpenAPIContractTests fails when they are stale).
        .target(
            name: "SwitchyardAPIContract",
            dependencies: [
                "SwitchyardCore",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            exclude: ["openapi-generator-config.yaml", "Generated/STAMP"],
            swiftSettings: generatedSwiftSettings
        ),
        // The HTTP API: server channels, middleware, controllers.
        .target(
            name: "SwitchyardAPI",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardMetrics", "SwitchyardProviders", "SwitchyardOutbound", "SwitchyardOAuth",
                "SwitchyardWebhooks", "SwitchyardJobs", "SwitchyardHTTP", "SwitchyardAPIContract", "SwitchyardSyncs", "SwitchyardDestinations",
                "SwitchyardWorkflows",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Calls to third-party APIs: retries, adaptive rate limits, circuit breakers, SSRF guard, capped bodies.
        .target(
            name: "SwitchyardOutbound",
            dependencies: [
                "SwitchyardCore", "SwitchyardMetrics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Background work: job handlers by kind, the executor and scheduler services, schedules.
        .target(
            name: "SwitchyardJobs",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardMetrics", "SwitchyardOutbound", "SwitchyardOAuth", "SwitchyardProviders",
                "SwitchyardWebhooks", "SwitchyardSyncs", "SwitchyardDestinations", "SwitchyardWorkflows",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Not production code: the load generators and ceilings of `switchyard bench` (the queue benchmark and its raw SQL
        // claim loop, the ingest benchmark, its single-insert ceiling and its lean HTTP/1.1 client). Only the `switchyard`
        // executable and the tests depend on it; LayeringTests fails when a production target imports it.
        .target(
            name: "SwitchyardBenchmarks",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardMetrics", "SwitchyardOutbound", "SwitchyardJobs", "SwitchyardAPI",
                "SwitchyardProviders", "SwitchyardOAuth", "SwitchyardSyncs", "SwitchyardDestinations", "SwitchyardWorkflows",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Turns Migrations/*.sql into Swift string literals so the binary carries its schema.
        .executableTarget(
            name: "switchyard-embed-migrations",
            path: "Plugins/EmbedMigrationsTool"
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["switchyard-embed-migrations"]
        ),
        // The API client generated from openapi/openapi.yaml: the tests call the API through it, so a response that
        // does not match its schema fails them.
        .target(
            name: "SwitchyardAPIClient",
            dependencies: [
                "SwitchyardAPIContract",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/SwitchyardAPIClient",
            exclude: ["openapi-generator-config.yaml", "Generated/STAMP"],
            swiftSettings: generatedSwiftSettings
        ),
        // Test helpers: a private PostgreSQL per test process, a database per suite, HTTP clients.
        .target(
            name: "SwitchyardTestSupport",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardAPI", "SwitchyardMetrics", "SwitchyardVault", "SwitchyardOutbound",
                "SwitchyardJobs", "SwitchyardAPIContract", "SwitchyardAPIClient", "SwitchyardDevCluster",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/SwitchyardTestSupport",
            swiftSettings: swiftSettings
        ),
        // `swift run fake-oauth-provider`: the tests' fake OAuth provider, for the README's connect walkthrough.
        .executableTarget(
            name: "fake-oauth-provider",
            dependencies: [
                "SwitchyardTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FakeOAuthProviderTool",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardTests",
            dependencies: [
                "SwitchyardCore", "SwitchyardPostgres", "SwitchyardAPI", "SwitchyardMetrics", "SwitchyardVault", "SwitchyardOutbound",
                "SwitchyardProviders", "SwitchyardOAuth", "SwitchyardWebhooks", "SwitchyardTestSupport", "SwitchyardJobs",
                "SwitchyardAPIContract", "SwitchyardAPIClient", "SwitchyardDevCluster", "SwitchyardSyncs", "SwitchyardBenchmarks",
                "SwitchyardDestinations", "SwitchyardWorkflows",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
