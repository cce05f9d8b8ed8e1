#ifndef PIXELFLOW_VIPS_H
#define PIXELFLOW_VIPS_H
#include <vips/vips.h>
// Fixed-argument wrappers over libvips' variadic calls, which Swift cannot call directly.
int pf_vips_init(const char *argv0);
#endif
