#include "bf16_gram.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

int spx_bf16_gram_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16");
}

long spx_bf16_packed_stride(long columns) { return (columns + 15) / 16 * 16; }

BF16_TARGET
void spx_bf16_pack(const float *x, long rows, long columns, uint32_t *packed, double *column_sums) {
    const long stride = spx_bf16_packed_stride(columns), pairs = (rows + 1) / 2;
    /* cvtne2ps(b, a) rounds to [a0..a15, b0..b15] as bfloat16; this permutation
       interleaves them to a0 b0 a1 b1 …, each column's pair in one word. */
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (long j = 0; j < columns; j++) column_sums[j] = 0;
    for (long p = 0; p < pairs; p++) {
        const float *even = x + 2 * p * columns;
        const float *odd = 2 * p + 1 < rows ? even + columns : 0;
        for (long j = 0; j < stride; j += 16) {
            const long left = columns - j;
            const __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            const __m512 a = _mm512_maskz_loadu_ps(mask, even + j);
            const __m512 b = odd ? _mm512_maskz_loadu_ps(mask, odd + j) : _mm512_setzero_ps();
            const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(b, a);
            _mm512_storeu_si512(packed + p * stride + j, _mm512_permutexvar_epi16(interleave, both));
            /* Column sums in double, eight lanes at a time. */
            if (left >= 16) {
                const __m512d sumLow = _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)),
                                                     _mm512_cvtps_pd(_mm512_castps512_ps256(b)));
                const __m512d sumHigh = _mm512_add_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)),
                                                      _mm512_cvtps_pd(_mm512_extractf32x8_ps(b, 1)));
                _mm512_storeu_pd(column_sums + j, _mm512_add_pd(_mm512_loadu_pd(column_sums + j), sumLow));
                _mm512_storeu_pd(column_sums + j + 8, _mm512_add_pd(_mm512_loadu_pd(column_sums + j + 8), sumHigh));
            } else {
                for (long c = j; c < columns; c++) column_sums[c] += (double)even[c] + (odd ? (double)odd[c] : 0.0);
            }
        }
    }
    /* The 16 words the last block may read past the end. */
    for (long j = 0; j < 16; j++) packed[pairs * stride + j] = 0;
}

/* Rows i..i+5 (those below `valid_rows` stored) by `vectors` groups of 16 columns from j:
   Σₚ over packed rows of the pair products, in float lanes. */
static inline __attribute__((always_inline)) BF16_TARGET
void block(const uint32_t *packed, long stride, long pairs, long i, long j, int vectors, int valid_rows,
           long columns, float *gram) {
    __m512 sums[6][4];
    for (int r = 0; r < 6; r++)
        for (int v = 0; v < 4; v++) sums[r][v] = _mm512_setzero_ps();
    const uint32_t *left = packed + i, *right = packed + j;
    for (long p = 0; p < pairs; p++) {
        __m512bh b[4];
        for (int v = 0; v < vectors; v++) b[v] = (__m512bh)_mm512_loadu_si512(right + 16 * v);
        for (int r = 0; r < 6; r++) {
            const __m512bh a = (__m512bh)_mm512_set1_epi32((int)left[r]);
            for (int v = 0; v < vectors; v++) sums[r][v] = _mm512_dpbf16_ps(sums[r][v], a, b[v]);
        }
        left += stride;
        right += stride;
    }
    for (int r = 0; r < valid_rows; r++) {
        float *row = gram + (i + r) * columns;
        for (int v = 0; v < vectors; v++) {
            const long start = j + 16 * v, count = columns - start;
            const __mmask16 mask = count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
            _mm512_mask_storeu_ps(row + start, mask, sums[r][v]);
        }
    }
}

BF16_TARGET
void spx_bf16_gram_rows(const uint32_t *packed, long rows, long columns, long row_start, long row_end, float *gram) {
    const long stride = spx_bf16_packed_stride(columns), pairs = (rows + 1) / 2;
    for (long i = row_start; i < row_end; i += 6) {
        const int valid = (int)(row_end - i < 6 ? row_end - i : 6);
        /* From the 16-column group holding the diagonal, 64 columns at a time. */
        for (long j = i / 16 * 16; j < columns; j += 64) {
            const long groups = (columns - j + 15) / 16;
            switch (groups >= 4 ? 4 : groups) {
            case 4: block(packed, stride, pairs, i, j, 4, valid, columns, gram); break;
            case 3: block(packed, stride, pairs, i, j, 3, valid, columns, gram); break;
            case 2: block(packed, stride, pairs, i, j, 2, valid, columns, gram); break;
            default: block(packed, stride, pairs, i, j, 1, valid, columns, gram); break;
            }
        }
    }
}

#else

int spx_bf16_gram_available(void) { return 0; }
long spx_bf16_packed_stride(long columns) { return (columns + 15) / 16 * 16; }
void spx_bf16_pack(const float *x, long rows, long columns, uint32_t *packed, double *column_sums) {
    (void)x; (void)rows; (void)columns; (void)packed; (void)column_sums;
}
void spx_bf16_gram_rows(const uint32_t *packed, long rows, long columns, long row_start, long row_end, float *gram) {
    (void)packed; (void)rows; (void)columns; (void)row_start; (void)row_end; (void)gram;
}

#endif
