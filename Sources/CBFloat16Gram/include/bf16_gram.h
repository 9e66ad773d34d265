#ifndef SIMPOOL_BF16_GRAM_H
#define SIMPOOL_BF16_GRAM_H

#include <stdint.h>

/* The Gram matrix XᵀX of a tall float matrix X (rows × columns, row-major) from products
   of its values rounded to bfloat16, summed in float: AVX-512 BF16's dot-product
   instruction does two multiply-adds per float lane, twice the float FMA rate.

   It is a preconditioner's matrix, not an answer: each value keeps 8 bits, so entries are
   off by about 2⁻⁹ of the products' magnitudes. */

/* Whether this CPU (and its operating system) runs the kernels below. */
int spx_bf16_gram_available(void);

/* Values per packed row: `columns` rounded up to a multiple of 16. */
long spx_bf16_packed_stride(long columns);

/* Packs X for `spx_bf16_gram_rows`: packed[p * stride + j] holds X[2p][j] and X[2p+1][j]
   as two bfloat16 (round to nearest even) in one 32-bit word, the odd row's half zero
   when `rows` is odd and the padding columns zero. `packed` holds (rows + 1) / 2 packed
   rows of `spx_bf16_packed_stride(columns)` words plus 16 more (read past by the last
   block, never used). Also writes the column sums Σᵢ X[i][j] in double to `column_sums`
   (`columns` values), from the float values as they are. */
void spx_bf16_pack(const float *x, long rows, long columns, uint32_t *packed, double *column_sums);

/* Rows [row_start, row_end) of the Gram matrix from the packed X, every entry from the
   diagonal to the right at least, into `gram` (row-major, `columns` × `columns`). Entries
   left of the diagonal in the same 16-column group may be written too (with their true
   values); nothing outside those rows is. */
void spx_bf16_gram_rows(const uint32_t *packed, long rows, long columns, long row_start, long row_end, float *gram);

#endif
