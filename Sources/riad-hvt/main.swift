import Glibc
import RiadTender

/// riad-hvt: runs an hvt unikernel on KVM. Exit status: the kernel's own, or
/// 1 with a message on standard error when riad-hvt refused or stopped it.
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let options = try TenderOptions.parse(arguments)
    if options.showHelp {
        print(TenderOptions.usage)
        exit(0)
    }
    let status = try HvtTender(options: options).run()
    exit(status & 0xff)
} catch {
    let message = "riad-hvt: error: \(error.message)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
