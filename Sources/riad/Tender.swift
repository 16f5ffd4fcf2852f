import ArgumentParser
import Foundation
import RiadBuild

/// The riad-hvt that `riad run -t hvt` starts: the optimised, static build
/// of the checkout riad belongs to, with its user-network helper beside it,
/// so that what a user runs is the fast path even under `swift run riad`
/// (a debug build). Built when missing or older than its sources; a
/// checkout-less riad falls back to the riad-hvt installed beside it.
enum ReleaseTender {
    /// The folders whose files riad-hvt and riad-slirp are built from.
    static let sources = [
        "Sources/riad-hvt", "Sources/riad-slirp", "Sources/RiadTender", "Sources/CRiadTender",
        "Sources/CRiadSlirp", "Sources/RiadABI", "Sources/Riad",
    ]
    static let products = ["riad-hvt", "riad-slirp"]

    /// The path of the release riad-hvt, built first if need be.
    static func path() throws -> String {
        guard let root = KernelBuilder.findRoot(from: executableDirectory()) else {
            return try siblingTool("riad-hvt")
        }
        let directory = root.appendingPathComponent(".build/release")
        let tender = directory.appendingPathComponent("riad-hvt")
        if isCurrent(products.map { directory.appendingPathComponent($0) }, root: root) {
            return tender.path
        }
        Terminal.note("building the optimised riad-hvt (once, and after its sources change)")
        for product in products {
            let build = Process()
            build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            build.currentDirectoryURL = root
            build.arguments = ["swift", "build", "-c", "release", "--product", product]
            try build.run()
            build.waitUntilExit()
            guard build.terminationStatus == 0 else {
                throw ValidationError(
                    "could not build \(product); run `swift build -c release --product \(product)` in "
                        + root.path)
            }
        }
        return tender.path
    }

    /// Whether every product exists and is newer than every source file.
    static func isCurrent(_ binaries: [URL], root: URL) -> Bool {
        let files = FileManager.default
        var oldest = Date.distantFuture
        for binary in binaries {
            guard files.isExecutableFile(atPath: binary.path),
                let date = try? files.attributesOfItem(atPath: binary.path)[.modificationDate] as? Date
            else { return false }
            oldest = min(oldest, date)
        }
        for folder in sources {
            let enumerator = files.enumerator(
                at: root.appendingPathComponent(folder),
                includingPropertiesForKeys: [.contentModificationDateKey])
            while let file = enumerator?.nextObject() as? URL {
                let date = (try? file.resourceValues(forKeys: [.contentModificationDateKey]))?
                    .contentModificationDate
                if let date, date > oldest { return false }
            }
        }
        return true
    }
}
