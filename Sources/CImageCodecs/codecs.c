#include "spx_codecs.h"

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

void spx_free(void *pointer) { free(pointer); }

static void set_message(char *message, size_t size, const char *text) {
    if (message && size > 0) {
        snprintf(message, size, "%s", text);
    }
}

/* ---------------------------------------------------------------- PNG ---- */

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_size;
    jmp_buf jump;
} png_source;

static void png_read_from_memory(png_structp png, png_bytep target, png_size_t length) {
    png_source *source = (png_source *)png_get_io_ptr(png);
    if (source->size - source->offset < length) {
        png_error(png, "truncated file: data ends before the image does");
    }
    memcpy(target, source->data + source->offset, length);
    source->offset += length;
}

static void png_fail(png_structp png, png_const_charp text) {
    png_source *source = (png_source *)png_get_error_ptr(png);
    set_message(source->message, source->message_size, text);
    longjmp(source->jump, 1);
}

/* Warnings (a damaged ancillary chunk, a bad CRC outside the image data) leave a
   decodable picture; the first one is kept so that the caller can show it. */
static void png_keep_warning(png_structp png, png_const_charp text) {
    png_source *source = (png_source *)png_get_error_ptr(png);
    if (source && source->message && source->message_size > 0 && source->message[0] == 0) {
        snprintf(source->message, source->message_size, "decoded with a warning: %s", text);
    }
}

static void png_ignore_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

int spx_png_decode(const unsigned char *data, size_t size, long long max_pixels,
                   spx_raster *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    set_message(message, message_size, "");
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(message, message_size, "not a PNG file (wrong signature)");
        return 1;
    }
    /* IHDR is the first chunk: refuse absurd sizes before libpng reads further. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        unsigned long long w = ((unsigned long long)data[16] << 24) | (data[17] << 16) | (data[18] << 8) | data[19];
        unsigned long long h = ((unsigned long long)data[20] << 24) | (data[21] << 16) | (data[22] << 8) | data[23];
        if ((long long)(w * h) > max_pixels) {
            snprintf(message, message_size, "image too large: %llu×%llu pixels exceeds the limit of %lld", w, h,
                     max_pixels);
            return 1;
        }
    }
    png_source source = {data, size, 0, message, message_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_fail,
                                             png_keep_warning);
    if (!png) {
        set_message(message, message_size, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    unsigned char *volatile pixels = NULL;
    if (!info || setjmp(source.jump)) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        if (!message || message[0] == 0) {
            set_message(message, message_size, "invalid PNG data");
        }
        return 1;
    }
    png_set_read_fn(png, &source, png_read_from_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
#if defined(PNG_SET_OPTION_SUPPORTED) && defined(PNG_SKIP_sRGB_CHECK_PROFILE)
    /* Colour profiles are never applied (as in Pillow's convert("RGB")), so libpng's check
       of an embedded sRGB profile against the known-bad ones only produced a warning about
       many ordinary photos ("iCCP: known incorrect sRGB profile"), not about their pixels. */
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
#endif
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if ((long long)width * (long long)height > max_pixels) {
        snprintf(message, message_size, "image too large: %u×%u pixels exceeds the limit of %lld",
                 width, height, max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_swap(png); /* PNG stores big-endian; hand out native order */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    pixels = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);

    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->bit_depth = depth;
    out->is_cmyk = 0;
    out->pixels = pixels;
    return 0;
}

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
} png_sink;

static void png_write_to_memory(png_structp png, png_bytep source, png_size_t length) {
    png_sink *sink = (png_sink *)png_get_io_ptr(png);
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 4096;
        while (capacity < sink->size + length) capacity *= 2;
        unsigned char *grown = realloc(sink->data, capacity);
        if (!grown) {
            sink->failed = 1;
            png_error(png, "out of memory");
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, source, length);
    sink->size += length;
}

static void png_flush_nothing(png_structp png) { (void)png; }

int spx_png_encode(const unsigned char *pixels, int width, int height, int channels,
                   unsigned char **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    int color_types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                         PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4 || width <= 0 || height <= 0) {
        set_message(message, message_size, "cannot encode: bad dimensions or channel count");
        return 1;
    }
    png_source errors = {0};
    errors.message = message;
    errors.message_size = message_size;
    png_sink sink = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, png_fail,
                                              png_ignore_warning);
    if (!png) {
        set_message(message, message_size, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(errors.jump)) {
        free(sink.data);
        png_destroy_write_struct(&png, info ? &info : NULL);
        return 1;
    }
    png_set_write_fn(png, &sink, png_write_to_memory, png_flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = sink.data;
    *out_size = sink.size;
    return 0;
}

/* --------------------------------------------------------------- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
} jpeg_errors;

static void jpeg_fail(j_common_ptr cinfo) {
    jpeg_errors *errors = (jpeg_errors *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_message(errors->message, errors->message_size, text);
    longjmp(errors->jump, 1);
}

/* libjpeg only warns when the data stops early and pads the picture with grey; a
   truncated file must be reported, not shown half-grey. Other warnings (corrupt data it
   resynchronised over, stray bytes) leave a picture; the first is kept for the caller. */
static void jpeg_warn(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace messages */
    jpeg_errors *errors = (jpeg_errors *)cinfo->err;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        set_message(errors->message, errors->message_size,
                    "truncated file: JPEG data ends before the image does");
        longjmp(errors->jump, 1);
    }
    if (errors->message && errors->message_size > 0 && errors->message[0] == 0) {
        char text[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, text);
        snprintf(errors->message, errors->message_size, "decoded with a warning: %s", text);
    }
}

int spx_jpeg_decode(const unsigned char *data, size_t size, long long max_pixels,
                    spx_raster *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    set_message(message, message_size, "");
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8) {
        set_message(message, message_size, "not a JPEG file (wrong signature)");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_errors errors;
    unsigned char *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_fail;
    errors.base.emit_message = jpeg_warn;
    errors.message = message;
    errors.message_size = message_size;
    if (setjmp(errors.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((long long)cinfo.image_width * (long long)cinfo.image_height > max_pixels) {
        snprintf(message, message_size, "image too large: %u×%u pixels exceeds the limit of %lld",
                 cinfo.image_width, cinfo.image_height, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    int is_cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        is_cmyk = 1;
        break;
    default:
        cinfo.out_color_space = JCS_RGB;
        break;
    }
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    pixels = malloc(stride * cinfo.output_height);
    if (!pixels) {
        set_message(message, message_size, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = cinfo.output_components;
    out->bit_depth = 8;
    out->is_cmyk = is_cmyk;
    out->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
