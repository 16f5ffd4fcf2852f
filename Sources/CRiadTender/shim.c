/* SwiftPM needs one source file in a C target; everything is inline. */
#include "riad_tender_c.h"
