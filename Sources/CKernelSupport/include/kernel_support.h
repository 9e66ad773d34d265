#ifndef SIMPOOL_KERNEL_SUPPORT_H
#define SIMPOOL_KERNEL_SUPPORT_H

/* A software prefetch, which Swift has no spelling for. Static inline, so that the Swift
   compiler inlines it into the kernels that call it (one instruction). */
static inline void spx_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
