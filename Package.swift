// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "PixelFlow",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PixelFlowProtocol", targets: ["PixelFlowProtocol"]),
        .library(name: "PixelFlowImaging", targets: ["PixelFlowImaging"]),
        .library(name: "PixelFlowPipeline", targets: ["PixelFlowPipeline"]),
        .library(name: "PixelFlowClient", targets: ["PixelFlowClient"]),
        .library(name: "PixelFlowBatch", targets: ["PixelFlowBatch"]),
        .executable(name: "pixelflow", targets: ["pixelflow"]),
        .executable(name: "pfctl", targets: ["pfctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // System libraries, reached through pkg-config. Only the two targets below import them.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // Fixed-argument C wrappers over libvips' variadic API (Swift cannot call C varargs).
        .target(name: "CVipsShim", dependencies: ["CVips"]),

        .target(name: "PixelFlowCompression", dependencies: ["CZstd", "CLZ4"]),
        .target(
            name: "PixelFlowProtocol",
            dependencies: [
                "PixelFlowCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // TLS on the links (swift-nio-ssl) and a cluster's own CA (swift-certificates): kept out of
        // PixelFlowProtocol so the protocol and its fuzzer need no TLS library.
        .target(
            name: "PixelFlowTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The variant/pipeline model and its validation: pure Swift, so the coordinator and client can validate jobs without libvips.
        // A lock ThreadSanitizer understands (see Locked.swift), for every module that shares state across threads.
        .target(name: "PixelFlowLocking"),
        .target(name: "PixelFlowPipeline", dependencies: ["PixelFlowLocking"]),
        .target(name: "PixelFlowImaging", dependencies: ["CVipsShim", "PixelFlowPipeline"]),
        // Durable jobs: the JobStore protocol and its SQLite backend, the content-addressed blob store.
        .target(
            name: "PixelFlowStore",
            dependencies: [
                "PixelFlowProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "PixelFlowCoordinator",
            dependencies: [
                "PixelFlowLocking",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "PixelFlowTLS",
                "PixelFlowProtocol",
                "PixelFlowPipeline",
                "PixelFlowStore",
                "PixelFlowObjects",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Object storage: AWS Signature V4 and an S3-compatible client.
        .target(
            name: "PixelFlowObjects",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The original JSON API (/v1/jobs…) on Hummingbird: routes translate to the coordinator's own calls.
        .target(
            name: "PixelFlowHTTP",
            dependencies: [
                "PixelFlowLocking",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "PixelFlowCoordinator",
                "PixelFlowPipeline",
                "PixelFlowProtocol",
                "PixelFlowStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                "PixelFlowTLS",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PixelFlowWorker",
            dependencies: [
                "PixelFlowLocking",
                "PixelFlowTLS",
                "PixelFlowProtocol",
                "PixelFlowCompression",
                "PixelFlowPipeline",
                "PixelFlowImaging",
                "PixelFlowObjects",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The public async client: never links libvips, so pfctl and applications stay light.
        .target(
            name: "PixelFlowClient",
            dependencies: [
                "PixelFlowLocking",
                "PixelFlowTLS",
                "PixelFlowProtocol",
                "PixelFlowCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Batch commands' shared logic (inputs, output layout, JSON lines, progress, summary, exit codes), with a
        // pluggable "process one source" step: the engine in-process (pixelflow) or the cluster (pfctl). No libvips.
        // Command-line plumbing shared by `pixelflow` and `pfctl`: batches (no libvips) and the TLS flags.
        .target(
            name: "PixelFlowBatch",
            dependencies: [
                "PixelFlowPipeline", "PixelFlowTLS", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "pixelflow",
            dependencies: [
                "PixelFlowTLS",
                "PixelFlowProtocol",
                "PixelFlowImaging",
                "PixelFlowPipeline",
                "PixelFlowBatch",
                "PixelFlowCoordinator",
                "PixelFlowHTTP",
                "PixelFlowWorker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "pfctl",
            dependencies: [
                "PixelFlowTLS",
                "PixelFlowProtocol",
                "PixelFlowClient",
                "PixelFlowBatch",
                "PixelFlowPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target over the decoder, handshake and payload assembly; built for real by fuzz/run.sh.
        .executableTarget(
            name: "pixelflow-fuzz",
            dependencies: ["PixelFlowProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Benchmarks are a separate binary so production executables carry none of their code.
        .executableTarget(
            name: "pixelflow-bench",
            dependencies: [
                "PixelFlowProtocol",
                "PixelFlowCompression",
                "PixelFlowImaging",
                "PixelFlowPipeline",
                "PixelFlowCoordinator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "PixelFlowCompressionTests", dependencies: ["PixelFlowCompression", "CZstd"]),
        .testTarget(
            name: "PixelFlowProtocolTests",
            dependencies: [
                "PixelFlowProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PixelFlowImagingTests", dependencies: ["PixelFlowImaging", "PixelFlowPipeline", "CVipsShim"]),
        .testTarget(name: "PixelFlowPipelineTests", dependencies: ["PixelFlowPipeline"]),
        .testTarget(
            name: "PixelFlowCoordinatorTests",
            dependencies: [
                "PixelFlowLocking",
                "PixelFlowCoordinator",
                "PixelFlowProtocol",
                "PixelFlowStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PixelFlowWorkerTests",
            dependencies: [
                "PixelFlowLocking",
                "PixelFlowWorker",
                "PixelFlowProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PixelFlowClientTests",
            dependencies: [
                "PixelFlowLocking",
                "PixelFlowClient",
                "PixelFlowProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PixelFlowStoreTests",
            dependencies: ["PixelFlowStore", "PixelFlowProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "PixelFlowHTTPTests",
            dependencies: [
                "PixelFlowHTTP", "PixelFlowCoordinator", "PixelFlowProtocol", "PixelFlowStore",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "PixelFlowObjectsTests",
            dependencies: ["PixelFlowObjects", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "PixelFlowBatchTests", dependencies: ["PixelFlowBatch", "PixelFlowPipeline"]),
        .testTarget(name: "pfctlTests", dependencies: ["pfctl", "PixelFlowClient", "PixelFlowBatch"]),
        // Live cluster: real `pixelflow` processes on loopback ports.
        .testTarget(
            name: "PixelFlowClusterTests",
            dependencies: [
                "PixelFlowTLS",
                .product(name: "X509", package: "swift-certificates"),
                "PixelFlowProtocol",
                "PixelFlowClient",
                "PixelFlowCoordinator",
                "PixelFlowObjects",
                "PixelFlowWorker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "PixelFlowImaging",
                "CVipsShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
