import Riad

/// The hvt net device as Riad's `NetworkDevice`, for the direct stack:
/// NET_WRITE and NET_READ copy whole frames.
extension HvtNetwork: FrameCopyingDevice {}
