import Riad

/// The unix tap device as Riad's `NetworkDevice`, for the direct stack: a
/// tap's write and read copy whole frames.
extension UnixNetwork: FrameCopyingDevice {}
