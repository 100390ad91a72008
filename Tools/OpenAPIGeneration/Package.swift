// swift-tools-version:6.1
// The pinned OpenAPI generator and a companion tool, kept out of the main package so that building Switchyard does
// not build them. `scripts/generate-openapi` runs both; the output is committed under
// Sources/SwitchyardAPIContract/Generated and Tests/SwitchyardAPIClient/Generated.
import PackageDescription

let package = Package(
    name: "openapi-generation",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3"),
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.0"..<"7.0.0"),
    ],
    targets: [
        // Lists each schema's required-but-nullable properties (see JSONValueEncoder): the generator's types leave
        // them out when nil (swift-openapi-generator issue #934).
        .executableTarget(
            name: "required-nullable-keys",
            dependencies: [.product(name: "Yams", package: "Yams")]
        )
    ]
)
