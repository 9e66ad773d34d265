#ifndef SIMPOOL_KERNEL_SUPPORT_H
#define SIMPOOL_KERNEL_SUPPORT_H

/* Software prefetches, which Swift has no spelling for. Static inline, so that the Swift
   compiler inlines it into the kernels that call it (one instruction). */
static inline void spx_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/* The same for a line about to be written. */
static inline void spx_prefetch_for_writing(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
