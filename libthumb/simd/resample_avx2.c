/* AVX2 resampler kernels: not written yet, so the table routes to the scalar reference. */
#include "resample_kernels.h"
