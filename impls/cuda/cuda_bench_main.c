/*
 * impls/cuda/cuda_bench_main.c - ropecheck-cuda-bench: CUDA-event timing of
 * "cuda" (table) and "cuda-fused" on device pointers, next to a
 * device-to-device copy probe of the same bytes in the same run
 * (cuda_bench.cu says exactly what is timed).
 *
 * Cases: Llama-3-8B attention (32 q + 8 kv heads, d = r = 128, half
 * layout, base 5e5), q and k in one launch:
 *   prefill-4096  4096 tokens at positions 0..4095
 *   decode        1 token at position 131071
 * for f32, bf16 and f16. Prints time per call, GB/s (bytes read + written
 * / time) and the fraction of the probe.
 *
 * Exit status: 0 done; 77 when no CUDA device (the reason is printed; 77
 * is ctest's SKIP_RETURN_CODE for the smoke test); 1 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impls/cuda/cuda.h"
#include "impls/cuda/cuda_backend.h"
#include "reference/reference.h"

static void usage(void)
{
    printf("usage: ropecheck-cuda-bench [--reps N] [--batch N]\n"
           "Times cuda (table) and cuda-fused on Llama-3-8B prefill-4096 and decode\n"
           "(position 131071), f32/bf16/f16, with CUDA events, next to a device-to-device\n"
           "copy of the same bytes. Default: --reps 21 --batch 20.\n");
}

int main(int argc, char **argv)
{
    int reps = 21, batch = 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = atoi(argv[++i]);
        } else {
            usage();
            return strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ? 0 : 1;
        }
    }
    if (reps < 1 || batch < 1) {
        fprintf(stderr, "ropecheck-cuda-bench: --reps and --batch must be >= 1\n");
        return 1;
    }
    char why[200] = "";
    if (!rc_impl_cuda.available(why, sizeof why)) {
        printf("ropecheck-cuda-bench: skipped: cuda: %s\n", why);
        return 77;
    }
    enum { D = 128, QH = 32, KH = 8, PREFILL = 4096 };
    double hi[D / 2], lo[D / 2];
    rc_ref_theta_table(5e5, D, hi, lo);
    static int64_t pos_prefill[PREFILL];
    for (int64_t t = 0; t < PREFILL; t++)
        pos_prefill[t] = t;
    static const int64_t pos_decode[1] = {131071};
    const struct {
        const char *name;
        int64_t n_tokens;
        const int64_t *pos;
    } modes[] = {{"prefill-4096", PREFILL, pos_prefill}, {"decode", 1, pos_decode}};
    const rc_dtype dtypes[] = {RC_DTYPE_F32, RC_DTYPE_BF16, RC_DTYPE_F16};
    printf("%-8s %-12s %-5s %-10s %12s %10s %12s %10s %8s\n", "shape", "mode", "dtype", "impl",
           "us/call", "GB/s", "probe us", "probe GB/s", "of probe");
    int failed = 0;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; d++)
            for (int fused = 0; fused < 2; fused++) {
                rc_spec spec = {D, D, 5e5, RC_LAYOUT_HALF, dtypes[d], hi, lo, NULL, 0.0, 0.0, 0, NULL, 0};
                rc_cuda_bench_case c = {&spec, fused, modes[m].n_tokens, QH, KH, modes[m].pos,
                                        reps, batch};
                rc_cuda_bench_result r;
                rc_status st = rc_cuda_backend_bench(&c, &r, why, sizeof why);
                const char *impl = fused ? "cuda-fused" : "cuda";
                if (st != RC_OK) {
                    printf("llama3-8b %-12s %-5s %-10s error: %s\n", modes[m].name,
                           rc_dtype_name(dtypes[d]), impl, why);
                    failed = 1;
                    continue;
                }
                printf("%-8s %-12s %-5s %-10s %12.2f %10.1f %12.2f %10.1f %7.1f%%\n", "llama3-8b",
                       modes[m].name, rc_dtype_name(dtypes[d]), impl, r.call_us,
                       r.bytes / (r.call_us * 1e3), r.probe_us, r.bytes / (r.probe_us * 1e3),
                       100.0 * r.probe_us / r.call_us);
            }
    return failed;
}
