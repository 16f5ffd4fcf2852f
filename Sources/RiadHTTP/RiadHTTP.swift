// HTTP/1.1 for Riad kernels: see docs/http.md.
import Riad
