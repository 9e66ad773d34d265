/* Everything in this module is inline in kernel_support.h; a C target needs one source file. */
#include "kernel_support.h"
