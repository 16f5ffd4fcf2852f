// Metrics for Riad kernels: see docs/monitoring.md.
import Riad
