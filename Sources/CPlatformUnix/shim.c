/*
 * SwiftPM needs one source file in a C target. Everything of CPlatformUnix is
 * static inline in include/riad_unix.h, so that an Embedded Swift kernel,
 * which is compiled outside SwiftPM, gets the same code from the header
 * alone; this file only checks that the header compiles as C.
 */
#include "riad_unix.h"
