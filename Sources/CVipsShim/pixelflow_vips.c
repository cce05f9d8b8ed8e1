#include "pixelflow_vips.h"

int pf_vips_init(const char *argv0) {
    return VIPS_INIT(argv0);
}
