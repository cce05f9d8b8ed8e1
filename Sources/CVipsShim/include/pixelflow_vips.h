#ifndef PIXELFLOW_VIPS_H
#define PIXELFLOW_VIPS_H
#include <vips/vips.h>

// Fixed-argument wrappers over libvips' variadic calls, which Swift cannot call directly.
// Each one forwards its arguments as named options and returns libvips' status (0 = success).
// No logic lives here: policy is in PixelFlowImaging.

int pf_vips_init(const char *argv0);
/// Drops libvips' GLib warnings ("error in tile ..."): failures reach callers through the error buffer.
void pf_vips_silence_warnings(void);

// Loading.
/// Opens `buf` lazily (header only until pixels are read); `fail_on` is a VipsFailOn.
int pf_image_new_from_buffer(const void *buf, size_t len, int fail_on, VipsImage **out);
/// `size` is a VipsSize; `option_string` is passed to the loader (e.g. "fail_on=truncated");
/// `export_profile` (e.g. "srgb") converts images that carry an ICC profile.
int pf_thumbnail_buffer(const void *buf, size_t len, VipsImage **out, int width, int height, int size,
                        const char *option_string, const char *export_profile);
/// `crop` is a VipsInteresting (VIPS_INTERESTING_NONE = fit inside the box).
int pf_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, int size, int crop);

// Colour.
int pf_colourspace(VipsImage *in, VipsImage **out, int interpretation);
int pf_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile, int embedded);
int pf_icc_export(VipsImage *in, VipsImage **out, const char *output_profile);
int pf_cast(VipsImage *in, VipsImage **out, int format);
int pf_flatten(VipsImage *in, VipsImage **out, const double *background, int n);

// Geometry.
int pf_copy(VipsImage *in, VipsImage **out);
int pf_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
/// Places `in` in a `width` x `height` canvas by `direction` (a VipsCompassDirection), filled with `background`.
int pf_gravity(VipsImage *in, VipsImage **out, int direction, int width, int height, const double *background, int n);
int pf_rot(VipsImage *in, VipsImage **out, int angle);
int pf_flip(VipsImage *in, VipsImage **out, int direction);
int pf_gaussblur(VipsImage *in, VipsImage **out, double sigma);
int pf_sharpen(VipsImage *in, VipsImage **out, double sigma);
int pf_bandjoin_const1(VipsImage *in, VipsImage **out, double c);
int pf_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height, int extend);

// Saving: `buf` is g_malloc'd, free it with g_free.
int pf_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int interlace, int strip);
int pf_pngsave_buffer(VipsImage *in, void **buf, size_t *len, int strip);
int pf_webpsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int lossless, int effort, int strip);
/// `compression` is a VipsForeignHeifCompression (AV1 for AVIF, HEVC for HEIC).
int pf_heifsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int effort, int compression, int strip);
int pf_gifsave_buffer(VipsImage *in, void **buf, size_t *len, int effort, int strip);
int pf_tiffsave_buffer(VipsImage *in, void **buf, size_t *len);

// Reading pixels (tests, and one-pixel probes).
int pf_getpoint(VipsImage *in, double **vector, int *n, int x, int y);

// Fixtures (tests): a `width` x `height` image whose pixels are band-interleaved uchar values.
VipsImage *pf_image_from_pixels(const unsigned char *pixels, int width, int height, int bands);

// Counters (leak checks).
int pf_object_count(void);

// glibc's malloc arena cap (mallopt M_ARENA_MAX): libvips' threads otherwise get an arena each.
int pf_malloc_arena_max(int arenas);
int pf_malloc_mmap_threshold(int bytes);

#endif
