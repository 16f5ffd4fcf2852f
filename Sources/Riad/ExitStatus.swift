/// Exit statuses, the same on every target, so scripts and tests can tell
/// why a kernel stopped.
public enum ExitStatus {
    /// The application finished normally.
    public static let success: Int32 = 0
    /// The application reported a failure.
    public static let failure: Int32 = 1
    /// The runtime arguments were wrong (unknown argument, bad value).
    public static let usage: Int32 = 64
    /// The kernel aborted: a trap, a failed precondition, a fatal error.
    public static let abort: Int32 = 255
}
