/*
 * SwiftPM needs one source file in a C target. Everything of CPlatformUnix is
 * static inline in include/riad_unix.h, so that an Embedded Swift kernel,
 * which is compiled outside SwiftPM, gets the same code from the header
 * alone; this file only checks that the headers compile as C.
 */
#include "riad_unix.h"
#include "riad_unix_sockets.h"
