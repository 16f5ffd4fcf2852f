// swift-tools-version: 6.1
//
// Riad: a library operating system in Swift.
//
// Kernel-side modules (Riad, PlatformHvt, PlatformUnix) build here as ordinary Swift, for
// unit tests and so that editors see them. The `riad` tool builds the same
// sources again in Embedded Swift for a kernel (see Sources/RiadBuild).
import PackageDescription

let package = Package(
    name: "Riad",
    products: [
        .executable(name: "riad", targets: ["riad"]),
        .executable(name: "riad-hvt", targets: ["riad-hvt"]),
        .executable(name: "riad-slirp", targets: ["riad-slirp"]),
        .library(name: "Riad", targets: ["Riad"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // The guest/tender boundary: C headers shared by both sides.
        .target(name: "RiadABI"),

        // Kernel side.
        .target(name: "Riad"),
        // The TCP/IP stack: wire formats and sans-I/O protocol engines.
        .target(name: "RiadNet", dependencies: ["Riad"]),
        // HTTP/1.1 server and client over any NetworkStack.
        .target(name: "RiadHTTP", dependencies: ["Riad", "RiadNet"]),
        // Metrics sources and their reporters (InfluxDB, Prometheus).
        .target(name: "RiadMetrics", dependencies: ["Riad", "RiadNet", "RiadHTTP"]),
        // Declarations of the hvt C runtime; its sources (runtime/) are
        // compiled into kernels only, never into host programs.
        .target(name: "CPlatformHvt", dependencies: ["RiadABI"], exclude: ["runtime"]),
        .target(
            name: "PlatformHvt", dependencies: ["Riad", "RiadABI", "CPlatformHvt"], exclude: ["link"]),
        // The unix target: a kernel as a Linux process. CPlatformUnix is
        // header-only (static inline), so kernels need no C object of ours.
        .target(name: "CPlatformUnix"),
        .target(name: "PlatformUnix", dependencies: ["Riad", "RiadNet", "CPlatformUnix"]),

        // Host side: the tender.
        .target(name: "CRiadTender", dependencies: ["RiadABI"]),
        .target(name: "RiadTender", dependencies: ["RiadABI", "CRiadTender", "Riad"]),
        // A static executable: loading the Swift runtime's and libstdc++'s
        // shared libraries was most of the tender's start-up (2-4 ms), which
        // is part of a kernel's boot time.
        // Release builds only: test bundles link executable targets' code and
        // would inherit the flag.
        .executableTarget(
            name: "riad-hvt", dependencies: ["RiadTender"],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        // User-mode networking (`riad-hvt --net:NAME=user`): a helper process
        // the tender starts, which runs libslirp. The tender stays static and
        // under its seccomp filter; the helper is dynamic and loads
        // libslirp.so.0 with dlopen when it starts, so that building Riad
        // needs no libslirp.
        .target(name: "CRiadSlirp"),
        .executableTarget(name: "riad-slirp", dependencies: ["RiadTender", "CRiadSlirp"]),

        // Host side: the build tool.
        .target(name: "RiadBuild"),
        .executableTarget(
            name: "riad",
            dependencies: [
                "RiadBuild",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // A probe the tests run to check that the tender's seccomp filter kills
        // a process making a forbidden system call.
        .executableTarget(
            name: "riad-seccomp-probe", dependencies: ["RiadTender"],
            path: "Tests/SeccompProbe"),

        // libFuzzer targets, one per group of untrusted-input parsers; built
        // and run by scripts/fuzz (docs/fuzzing.md). Only the source is
        // declared: seeds/ and crashes/ beside it are inputs, not code.
        .executableTarget(
            name: "fuzz-net", dependencies: ["Riad", "RiadNet"], path: "Fuzz/Net",
            sources: ["FuzzNet.swift"]),
        .executableTarget(
            name: "fuzz-ethernet", dependencies: ["Riad", "RiadNet"], path: "Fuzz/Ethernet",
            sources: ["FuzzEthernet.swift"]),
        .executableTarget(
            name: "fuzz-http", dependencies: ["Riad", "RiadNet", "RiadHTTP"], path: "Fuzz/HTTP",
            sources: ["FuzzHTTP.swift"]),
        .executableTarget(
            name: "fuzz-tender", dependencies: ["RiadTender"], path: "Fuzz/Tender",
            sources: ["FuzzTender.swift"]),
        .executableTarget(
            name: "fuzz-unikernel-manifest", dependencies: ["RiadBuild"], path: "Fuzz/UnikernelManifest",
            sources: ["FuzzUnikernelManifest.swift"]),
        .executableTarget(
            name: "fuzz-runtime-arguments", dependencies: ["Riad"], path: "Fuzz/RuntimeArguments",
            sources: ["FuzzRuntimeArguments.swift"]),

        // Test support shared by the test targets: an event loop on a
        // virtual clock.
        .target(name: "RiadTestSupport", dependencies: ["Riad"], path: "Tests/Support"),
        .testTarget(name: "RiadTests", dependencies: ["Riad", "RiadTestSupport"]),
        .testTarget(name: "RiadTenderTests", dependencies: ["RiadTender"]),
        .testTarget(name: "RiadNetTests", dependencies: ["RiadNet", "RiadTestSupport"]),
        .testTarget(name: "RiadHTTPTests", dependencies: ["RiadHTTP", "RiadTestSupport"]),
        .testTarget(name: "RiadMetricsTests", dependencies: ["RiadMetrics", "RiadTestSupport"]),
        .testTarget(name: "RiadBuildTests", dependencies: ["RiadBuild"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Riad", "RiadNet", "RiadBuild", "CRiadTender", "riad-hvt", "riad", "riad-seccomp-probe",
                "riad-slirp",
            ],
            exclude: ["hostile_frames.py"]),
    ]
)
