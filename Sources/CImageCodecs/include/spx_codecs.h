#ifndef SPX_CODECS_H
#define SPX_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// A decoded raster. Samples are 8-bit, or 16-bit native-endian when bit_depth is 16.
typedef struct {
    int width;
    int height;
    int channels;       /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA or CMYK */
    int bit_depth;      /* 8 or 16 */
    int is_cmyk;        /* JPEG only: channels hold C, M, Y, K */
    unsigned char *pixels; /* malloc'd; release with spx_free */
} spx_raster;

/// Each returns 0 on success; otherwise a message is written (NUL-terminated) and nothing
/// is left allocated. max_pixels bounds width*height before any pixel memory is taken.
int spx_png_decode(const unsigned char *data, size_t size, long long max_pixels,
                   spx_raster *out, char *message, size_t message_size);
int spx_jpeg_decode(const unsigned char *data, size_t size, long long max_pixels,
                    spx_raster *out, char *message, size_t message_size);
/// Encodes 8-bit gray (1), gray+alpha (2), RGB (3) or RGBA (4) rows into a PNG held in memory.
int spx_png_encode(const unsigned char *pixels, int width, int height, int channels,
                   unsigned char **out, size_t *out_size, char *message, size_t message_size);
void spx_free(void *pointer);

#endif
