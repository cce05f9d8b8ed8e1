#include "pixelflow_vips.h"
#include <malloc.h>

int pf_vips_init(const char *argv0) {
    return VIPS_INIT(argv0);
}

static void pf_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
}

void pf_vips_silence_warnings(void) {
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, pf_drop_log, NULL);
}

int pf_image_new_from_buffer(const void *buf, size_t len, int fail_on, VipsImage **out) {
    *out = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", fail_on, NULL);
    return *out ? 0 : -1;
}

int pf_thumbnail_buffer(const void *buf, size_t len, VipsImage **out, int width, int height, int size,
                        const char *option_string, const char *export_profile) {
    return vips_thumbnail_buffer((void *) buf, len, out, width, "height", height, "size", size,
                                 "option_string", option_string, "export_profile", export_profile, NULL);
}

int pf_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, int size, int crop) {
    return vips_thumbnail_image(in, out, width, "height", height, "size", size, "crop", crop, NULL);
}

int pf_colourspace(VipsImage *in, VipsImage **out, int interpretation) {
    return vips_colourspace(in, out, interpretation, NULL);
}

int pf_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile, int embedded) {
    return vips_icc_transform(in, out, output_profile, "embedded", embedded, NULL);
}

int pf_icc_export(VipsImage *in, VipsImage **out, const char *output_profile) {
    return vips_icc_export(in, out, "output_profile", output_profile, NULL);
}

int pf_cast(VipsImage *in, VipsImage **out, int format) {
    return vips_cast(in, out, format, NULL);
}

int pf_flatten(VipsImage *in, VipsImage **out, const double *background, int n) {
    VipsArrayDouble *array = vips_array_double_new(background, n);
    int status = vips_flatten(in, out, "background", array, NULL);
    vips_area_unref(VIPS_AREA(array));
    return status;
}

int pf_copy(VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, NULL);
}

int pf_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int pf_gravity(VipsImage *in, VipsImage **out, int direction, int width, int height, const double *background, int n) {
    VipsArrayDouble *array = vips_array_double_new(background, n);
    int status = vips_gravity(in, out, direction, width, height, "extend", VIPS_EXTEND_BACKGROUND,
                              "background", array, NULL);
    vips_area_unref(VIPS_AREA(array));
    return status;
}

int pf_rot(VipsImage *in, VipsImage **out, int angle) {
    return vips_rot(in, out, angle, NULL);
}

int pf_flip(VipsImage *in, VipsImage **out, int direction) {
    return vips_flip(in, out, direction, NULL);
}

int pf_gaussblur(VipsImage *in, VipsImage **out, double sigma) {
    return vips_gaussblur(in, out, sigma, NULL);
}

int pf_sharpen(VipsImage *in, VipsImage **out, double sigma) {
    return vips_sharpen(in, out, "sigma", sigma, NULL);
}

int pf_bandjoin_const1(VipsImage *in, VipsImage **out, double c) {
    return vips_bandjoin_const1(in, out, c, NULL);
}

int pf_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height, int extend) {
    return vips_embed(in, out, x, y, width, height, "extend", extend, NULL);
}

int pf_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int interlace, int strip) {
    return vips_jpegsave_buffer(in, buf, len, "Q", quality, "interlace", interlace, "strip", strip, NULL);
}

int pf_pngsave_buffer(VipsImage *in, void **buf, size_t *len, int strip) {
    return vips_pngsave_buffer(in, buf, len, "strip", strip, NULL);
}

int pf_webpsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int lossless, int effort, int strip) {
    return vips_webpsave_buffer(in, buf, len, "Q", quality, "lossless", lossless, "effort", effort,
                                "strip", strip, NULL);
}

int pf_heifsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int effort, int compression, int strip) {
    return vips_heifsave_buffer(in, buf, len, "Q", quality, "effort", effort, "compression", compression,
                                "strip", strip, NULL);
}

int pf_gifsave_buffer(VipsImage *in, void **buf, size_t *len, int effort, int strip) {
    return vips_gifsave_buffer(in, buf, len, "effort", effort, "strip", strip, NULL);
}

int pf_tiffsave_buffer(VipsImage *in, void **buf, size_t *len) {
    return vips_tiffsave_buffer(in, buf, len, NULL);
}

int pf_getpoint(VipsImage *in, double **vector, int *n, int x, int y) {
    return vips_getpoint(in, vector, n, x, y, NULL);
}

VipsImage *pf_image_from_pixels(const unsigned char *pixels, int width, int height, int bands) {
    return vips_image_new_from_memory_copy(pixels, (size_t) width * height * bands, width, height, bands,
                                           VIPS_FORMAT_UCHAR);
}

static void *count_object(VipsObject *object, void *a, void *b) {
    (*(int *) a)++;
    return NULL;
}

int pf_object_count(void) {
    int count = 0;
    vips_object_map((VipsSListMap2Fn) count_object, &count, NULL);
    return count;
}

int pf_malloc_arena_max(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

int pf_malloc_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
