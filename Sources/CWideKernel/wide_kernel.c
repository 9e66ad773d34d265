#include "wide_kernel.h"

/* The helpers below take and return sixteen-lane vectors, which the baseline x86-64 ABI
   passes differently from AVX-512's; every one of them is inlined into the builds, so no
   such vector ever crosses a call, and the compiler's warning about it does not apply. */
#pragma clang diagnostic ignored "-Wpsabi"

/* Sixteen floats, loaded and stored unaligned through __builtin_memcpy (one instruction each). */
typedef float lanes __attribute__((vector_size(64)));
typedef int masks __attribute__((vector_size(64)));

#define WIDTH 32
/* How far ahead of the kernel the weights are prefetched, in floats (see Microkernels.swift). */
#define PREFETCH_DISTANCE 1024

static inline __attribute__((always_inline)) lanes load(const float *p) {
    lanes v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store(float *p, lanes v) { __builtin_memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) lanes splat(float x) {
    return (lanes){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

/* A row's 32 values where fewer than 32 columns are valid: the rest read as zero. The
   vectors go by pointer: these helpers are built once, for the baseline instruction set. */
static void load_partial(const float *p, int count, lanes *low, lanes *high) {
    float values[WIDTH] = {0};
    __builtin_memcpy(values, p, (unsigned long)count * sizeof(float));
    *low = load(values);
    *high = load(values + 16);
}

static void store_partial(float *p, int count, const lanes *low, const lanes *high) {
    float values[WIDTH];
    store(values, *low);
    store(values + 16, *high);
    __builtin_memcpy(p, values, (unsigned long)count * sizeof(float));
}

/* max(lower, min(upper, v)) as Swift's kernel spells it: a value below `lower` becomes
   `lower`, one above `upper` becomes `upper`, anything else (NaN too) stays. */
static inline __attribute__((always_inline)) lanes clamp(lanes v, lanes lower, lanes upper) {
    masks below = v < lower, above = v > upper;
    masks bits = ((masks)v & ~below) | ((masks)lower & below);
    return (lanes)((bits & ~above) | ((masks)upper & above));
}

/* The kernel's body, inlined into each build below; `rows` is a constant there, so the
   compiler keeps the accumulators in registers and leaves out the unused eighth row. */
static inline __attribute__((always_inline)) void wide_block(
    const int rows, const long *offsets, long segments, const float *a, const float *zeros, long channel_start,
    long channels, const float *w, int valid_rows, int valid_columns, float *c, long ldc, int accumulate,
    const spx_epilogue *finish) {
    const int full = valid_columns == WIDTH;
    /* Ask for the block's rows of C and of the residual before the products start. */
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < rows; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + 16, 1, 3);
        if (finish && finish->residual) {
            __builtin_prefetch(finish->residual + r * ldc, 0, 3);
            __builtin_prefetch(finish->residual + r * ldc + 16, 0, 3);
        }
    }
    lanes sum[8][2];
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < rows; r++) {
        if (accumulate && r < valid_rows) {
            if (full) {
                sum[r][0] = load(c + r * ldc);
                sum[r][1] = load(c + r * ldc + 16);
            } else {
                /* Through locals: the accumulators' own addresses are never taken. */
                lanes low, high;
                load_partial(c + r * ldc, valid_columns, &low, &high);
                sum[r][0] = low;
                sum[r][1] = high;
            }
        } else {
            sum[r][0] = splat(0);
            sum[r][1] = splat(0);
        }
    }
    for (long s = 0; s < segments; s++) {
        const float *row[8];
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < rows; r++) {
            const long offset = offsets[r * segments + s];
            row[r] = (offset < 0 ? zeros : a + offset) + channel_start;
        }
        for (long i = 0; i < channels; i++) {
            __builtin_prefetch(w + PREFETCH_DISTANCE, 0, 3);
            __builtin_prefetch(w + PREFETCH_DISTANCE + 16, 0, 3);
            const lanes b0 = load(w), b1 = load(w + 16);
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < rows; r++) {
                const lanes x = splat(row[r][i]);
                sum[r][0] = __builtin_elementwise_fma(x, b0, sum[r][0]);
                sum[r][1] = __builtin_elementwise_fma(x, b1, sum[r][1]);
            }
            w += WIDTH;
        }
    }
    /* Every loop over the rows runs exactly `rows` times, so that it unrolls and the
       accumulators are named registers rather than an indexed array in memory. */
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < rows; r++) {
        if (r >= valid_rows) continue;
        lanes low = sum[r][0], high = sum[r][1];
        if (finish) {
            lanes extra_low, extra_high;
            if (finish->bias) {
                if (full) {
                    extra_low = load(finish->bias);
                    extra_high = load(finish->bias + 16);
                } else {
                    load_partial(finish->bias, valid_columns, &extra_low, &extra_high);
                }
                low += extra_low;
                high += extra_high;
            }
            if (finish->residual) {
                const float *residual = finish->residual + r * ldc;
                if (full) {
                    extra_low = load(residual);
                    extra_high = load(residual + 16);
                } else {
                    load_partial(residual, valid_columns, &extra_low, &extra_high);
                }
                low += extra_low;
                high += extra_high;
            }
            const lanes lower = splat(finish->lower), upper = splat(finish->upper);
            low = clamp(low, lower, upper);
            high = clamp(high, lower, upper);
        }
        if (full) {
            store(c + r * ldc, low);
            store(c + r * ldc + 16, high);
        } else {
            store_partial(c + r * ldc, valid_columns, &low, &high);
        }
    }
}

#if defined(__x86_64__)
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define PORTABLE_TARGET __attribute__((target("avx2,fma")))
#else
#define AVX512_TARGET
#define PORTABLE_TARGET
#endif

/* Blocks of seven rows where they pad less (a 7×7 map's 49 pixels, a ViT's 257 tokens), of
   eight elsewhere: each build has both. */
#define BUILD(name, target)                                                                                         \
    target static void name##_8(const long *o, long s, const float *a, const float *z, long cs, long n,           \
                                const float *w, int vr, int vc, float *c, long ldc, int acc, const spx_epilogue *f) { \
        wide_block(8, o, s, a, z, cs, n, w, vr, vc, c, ldc, acc, f);                                               \
    }                                                                                                              \
    target static void name##_7(const long *o, long s, const float *a, const float *z, long cs, long n,           \
                                const float *w, int vr, int vc, float *c, long ldc, int acc, const spx_epilogue *f) { \
        wide_block(7, o, s, a, z, cs, n, w, vr, vc, c, ldc, acc, f);                                               \
    }                                                                                                              \
    void name(int rows, const long *o, long s, const float *a, const float *z, long cs, long n, const float *w,     \
              int vr, int vc, float *c, long ldc, int acc, const spx_epilogue *f) {                               \
        if (rows == 7) name##_7(o, s, a, z, cs, n, w, vr, vc, c, ldc, acc, f);                                    \
        else name##_8(o, s, a, z, cs, n, w, vr, vc, c, ldc, acc, f);                                              \
    }

BUILD(spx_wide_block_avx512, AVX512_TARGET)
BUILD(spx_wide_block_portable, PORTABLE_TARGET)

int spx_cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}
