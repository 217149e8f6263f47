/* SPDX-License-Identifier: GPL-3.0-or-later
 * The libebur128 peer of `lathe analyze` in bench/run_benchmarks.py: the ~50-line program
 * ../shared/reference/peers.md describes — one pass, modes I | LRA | TRUE_PEAK, libsndfile
 * reading float blocks of 64 Ki frames. Prints integrated loudness, LRA and true peak. */
#include <ebur128.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    SF_INFO info = {0};
    SNDFILE* f = sf_open(argv[1], SFM_READ, &info);
    if (!f) {
        fprintf(stderr, "%s: %s\n", argv[1], sf_strerror(NULL));
        return 1;
    }
    ebur128_state* st = ebur128_init((unsigned)info.channels, (unsigned long)info.samplerate,
                                     EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK);
    const sf_count_t block = 65536;
    float* buf = malloc(sizeof(float) * (size_t)block * (size_t)info.channels);
    sf_count_t n;
    while ((n = sf_readf_float(f, buf, block)) > 0) {
        ebur128_add_frames_float(st, buf, (size_t)n);
    }
    double integrated = 0, range = 0, peak = 0;
    ebur128_loudness_global(st, &integrated);
    ebur128_loudness_range(st, &range);
    for (unsigned c = 0; c < (unsigned)info.channels; ++c) {
        double p = 0;
        ebur128_true_peak(st, c, &p);
        if (p > peak) {
            peak = p;
        }
    }
    printf("I %.2f LUFS  LRA %.2f LU  TP %.2f dBTP\n", integrated, range, 20 * log10(peak));
    ebur128_destroy(&st);
    free(buf);
    sf_close(f);
    return 0;
}
