/*
 * tests/fuzz/fuzz_model_config.c - the Hugging Face config.json reader
 * (cli/model_config.c, rc_model_config_parse: the text entry behind
 * --hf-config and --model). The input is the file's text.
 *
 * Properties on success: the spec is one rc_spec_check accepts, the head
 * counts are consistent, the scaling passes rc_scaling_check (with a
 * stand-in context), and the config describes and frees cleanly.
 */
#include "fuzz_common.h"

#include "cli/model_config.h"
#include "core/scaling.h"
#include "core/spec_check.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char err[512];
    rc_model_config m;
    if (rc_model_config_parse(text, "fuzz.json", &m, err, sizeof err) == 0) {
        char why[256];
        FUZZ_CHECK(rc_spec_check(m.head_dim, m.rotary_dim, m.base, why, sizeof why) == 0);
        FUZZ_CHECK(m.n_heads >= 1 && m.n_kv_heads >= 1 && m.n_heads % m.n_kv_heads == 0);
        FUZZ_CHECK(m.max_position >= 0);
        rc_scaling probe = m.scaling;
        if (probe.context == 0)
            probe.context = 1;
        FUZZ_CHECK(rc_scaling_check(&probe, m.rotary_dim, why, sizeof why) == 0);
        char line[1024];
        rc_model_config_describe(&m, line, sizeof line);
        FUZZ_CHECK(strlen(line) < sizeof line);
        rc_model_config_free(&m);
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    }
    free(text);
    return 0;
}
