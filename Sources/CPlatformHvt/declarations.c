/*
 * SwiftPM needs one source file in a C target. The hvt runtime itself lives in
 * runtime/ and is compiled into kernels only (see RiadBuild), because it
 * defines malloc, memcpy and friends that must never reach a host program.
 */
#include "riad_hvt_runtime.h"
