#ifndef SIMPOOL_WIDE_KERNEL_H
#define SIMPOOL_WIDE_KERNEL_H

/* The wide convolution kernel (8 or 7 rows × 32 columns of C in sixteen-lane registers),
   compiled twice: for AVX-512 and for AVX2 + FMA (where each sixteen-lane value is two
   eight-lane registers: correct, slower). Which one runs is chosen at run time from what
   the CPU has (see InstructionSet.swift), so one x86-64 binary serves both kinds of CPU. */

/* What the kernel adds to its block before the one write: the bias of its columns, the
   residual (laid out like C, at the block's first element), then a clamp to
   [lower, upper]. */
typedef struct {
    const float *bias;
    const float *residual;
    float lower, upper;
} spx_epilogue;

/* C's `rows × 32` block (rows 7 or 8) over channels channel_start..<+channels of every
   segment; row r of segment s read from a + offsets[r · segments + s] (or `zeros` where
   that offset is negative), the weights one packed (block, panel) slice. Starts from zero
   or (accumulate) from C's partial sums, applies `finish` when it is not NULL, and writes
   back only the valid_rows × valid_columns corner. */
typedef void (*spx_wide_block_function)(int rows, const long *offsets, long segments, const float *a,
                                        const float *zeros, long channel_start, long channels, const float *weights,
                                        int valid_rows, int valid_columns, float *c, long ldc, int accumulate,
                                        const spx_epilogue *finish);

/* The AVX-512 build of the kernel; call it only where spx_cpu_has_avx512() is true. */
void spx_wide_block_avx512(int rows, const long *offsets, long segments, const float *a, const float *zeros,
                           long channel_start, long channels, const float *weights, int valid_rows, int valid_columns,
                           float *c, long ldc, int accumulate, const spx_epilogue *finish);

/* The same kernel for any CPU the binary runs on (AVX2 + FMA on x86-64). */
void spx_wide_block_portable(int rows, const long *offsets, long segments, const float *a, const float *zeros,
                             long channel_start, long channels, const float *weights, int valid_rows, int valid_columns,
                             float *c, long ldc, int accumulate, const spx_epilogue *finish);

/* Whether the CPU (and the operating system, which must save the wide registers) runs
   AVX-512 F, BW, DQ and VL. */
int spx_cpu_has_avx512(void);

#endif
