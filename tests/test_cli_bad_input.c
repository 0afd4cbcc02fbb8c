/*
 * tests/test_cli_bad_input.c - every bad input gets exit status 2 and one
 * clear line on stderr, before anything runs (issue: foundation, item 6).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "cli_runner.h"
#include "mutant_paths.h"

typedef struct bad_case {
    const char *args[8];
    const char *expect; /* a phrase the one line must contain */
} bad_case;

/* argv (a whole command line, without the program) must be refused with
 * exit 2 and one line holding phrase, before anything runs. */
static void expect_command_usage_error(const char *const *argv, const char *phrase)
{
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 2, "exit %d for %s %s %s (stderr: %s)", r.status, argv[0],
                 argv[1] ? argv[1] : "", argv[1] && argv[2] ? argv[2] : "", r.err);
    cr_expect_eq(cli_count_lines(r.err), 1, "stderr must be one line, got:\n%s", r.err);
    cr_expect(strstr(r.err, phrase) != NULL, "stderr '%s' lacks '%s'", r.err, phrase);
    cr_expect(strstr(r.out, "pass") == NULL, "nothing may run on bad input:\n%s", r.out);
    cli_result_free(&r);
}

/* The same for `verify --impl scalar --quiet ARGS...`. */
static void expect_usage_error(const char *const *args, const char *phrase)
{
    const char *argv[16] = {"verify", "--impl", "scalar", "--quiet"};
    size_t n = 4;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    expect_command_usage_error(argv, phrase);
}

#define BAD(name, phrase, ...)                                            \
    Test(cli_bad_input, name)                                             \
    {                                                                     \
        const char *a[] = {__VA_ARGS__, NULL};                            \
        expect_usage_error(a, phrase);                                    \
    }

BAD(head_dim_zero, "head_dim 0", "--head-dim", "0")
BAD(head_dim_odd, "head_dim 127", "--head-dim", "127")
BAD(head_dim_too_big, "head_dim 2048", "--head-dim", "2048")
BAD(head_dim_not_number, "not a decimal integer", "--head-dim", "12x")
BAD(rotary_dim_odd, "rotary_dim 63", "--rotary-dim", "63")
BAD(rotary_dim_above_head_dim, "rotary_dim 256", "--head-dim", "128", "--rotary-dim", "256")
BAD(base_zero, "base 0", "--base", "0")
BAD(base_negative, "base -10000", "--base", "-10000")
BAD(base_infinite, "--base 'inf' is not a finite", "--base", "inf")
BAD(base_nan, "--base 'nan' is not a finite", "--base", "nan")
BAD(position_negative, "negative", "--positions", "0,-5")
BAD(position_too_large, "2^53-1", "--positions", "9007199254740992")
BAD(position_beyond_int64, "exceeds 2^53-1", "--positions", "99999999999999999999")
BAD(position_range_empty, "empty", "--positions", "10:5")
BAD(position_garbage, "not a decimal integer", "--positions", "1:abc")
/* Strict forms (issue 14): a typo is an error, never a different run. */
BAD(position_empty_item, "empty item", "--positions", "5,,6")
BAD(dtype_empty_item, "empty item", "--dtype", "f32,")
BAD(heads_plus_sign, "not a decimal integer", "--heads", "+4")
BAD(heads_leading_blank, "not a decimal integer", "--heads", " 4")
BAD(head_dim_hex, "not a decimal integer", "--head-dim", "0x40")
BAD(base_hex_float, "not a finite decimal number", "--base", "0x1p13")
BAD(timeout_too_small, "[0.1, 86400]", "--timeout", "1e-6")
BAD(base_below_one, "outside [2^-1000, 1]", "--base", "0.5")
BAD(base_tiny, "outside [2^-1000, 1]", "--base", "1e-300")
BAD(linear_factor_below_one, "outside [2^-1000, 1]", "--scaling", "linear:factor=0.5")
BAD(positions_tokens_disagree, "--tokens", "--positions", "1,2,3", "--tokens", "5")
BAD(tokens_overflow, "exceeds", "--tokens", "99999999999999", "--positions", "random:10")
BAD(heads_zero, "--heads", "--heads", "0")
BAD(heads_too_many, "--heads", "--heads", "100000")
BAD(memory_too_large, "memory", "--heads", "4096", "--head-dim", "1024", "--tokens", "16777216",
    "--positions", "random:10")
BAD(unknown_dtype, "unknown dtype 'f8'", "--dtype", "f8")
BAD(unknown_layout, "unknown layout", "--layout", "diagonal")
BAD(unknown_option, "unknown option", "--frobnicate")
BAD(missing_value, "needs a value", "--seed")
BAD(bad_gate, "gate metric", "--gate", "f32:norm=3")
BAD(plugin_missing, "No such file", "--plugin", "/nonexistent/libport.so")
BAD(plugin_not_shared_library, "not a loadable shared library", "--plugin", ROPECHECK_SOURCE_FILE)
BAD(plugin_lacks_symbol, "no symbol ropecheck_plugin_v1", "--plugin", MUTANT_NO_SYMBOL_PATH)
BAD(plugin_other_abi, "ABI version 99", "--plugin", MUTANT_BAD_ABI_PATH)
BAD(plugin_null_impl, "NULL", "--plugin", MUTANT_NULL_IMPL_PATH)

Test(cli_bad_input, unknown_impl_names_the_builtins)
{
    const char *argv[] = {"verify", "--impl", "nosuch", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown implementation 'nosuch'") && strstr(r.err, "scalar"),
              "%s", r.err);
    cli_result_free(&r);
}

Test(cli_bad_input, unknown_command)
{
    const char *argv[] = {"verfiy", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown command 'verfiy'"), "%s", r.err);
    cli_result_free(&r);
}

Test(cli_bad_input, help_teaches_and_exits_zero)
{
    const char *argv[] = {"verify", "--help", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "Examples:") && strstr(r.out, "--positions") &&
                  strstr(r.out, "Exit status"),
              "%s", r.out);
    cli_result_free(&r);
}

/* prove and bench read their options as strictly as verify (issue 14):
 * blanks, signs, hex, empty list items and out-of-range values are exit 2
 * with one line, before anything runs. */
#define BAD_CMD(name, phrase, ...)                                        \
    Test(cli_bad_input, name)                                             \
    {                                                                     \
        const char *a[] = {__VA_ARGS__, NULL};                            \
        expect_command_usage_error(a, phrase);                            \
    }

BAD_CMD(prove_head_dim_plus, "not a decimal integer", "prove", "--impl", "scalar", "--head-dim",
        "+128")
BAD_CMD(prove_seed_hex, "non-negative decimal integer", "prove", "--impl", "scalar", "--seed",
        "0x10")
BAD_CMD(prove_seed_wraps, "non-negative decimal integer", "prove", "--impl", "scalar", "--seed",
        "18446744073709551615")
BAD_CMD(prove_timeout_tiny, "[0.1, 86400]", "prove", "--impl", "scalar", "--timeout", "1e-6")
BAD_CMD(prove_base_hex_float, "finite decimal", "prove", "--impl", "scalar", "--base", "0x1p13")
BAD_CMD(prove_base_tiny, "outside [2^-1000, 1]", "prove", "--impl", "scalar", "--base", "1e-300")
BAD_CMD(prove_layout_empty_item, "--layout", "prove", "--impl", "scalar", "--layout", "half,")
BAD_CMD(prove_context_blank, "--context", "prove", "--impl", "scalar", "--context", " 5")
BAD_CMD(bench_threads_plus, "--threads '+2'", "bench", "--impl", "scalar", "--threads", "+2")
BAD_CMD(bench_reps_hex, "--repetitions '0x5'", "bench", "--impl", "scalar", "--repetitions",
        "0x5")
BAD_CMD(bench_seed_negative, "--seed '-1'", "bench", "--impl", "scalar", "--seed", "-1")
BAD_CMD(bench_timeout_tiny, "[0.1, 86400]", "bench", "--impl", "scalar", "--timeout", "0.01")
BAD_CMD(bench_min_time_underflow, "--min-time", "bench", "--impl", "scalar", "--min-time",
        "1e-400")
BAD_CMD(bench_dtype_empty_item, "empty item", "bench", "--impl", "scalar", "--dtype", "f32,")
BAD_CMD(bench_shape_empty_item, "empty item", "bench", "--impl", "scalar", "--shape",
        ",llama3-8b")
/* Words after a command that takes none are typos, not ignored. */
BAD_CMD(version_extra_argument, "unexpected argument 'extra'", "version", "extra")
BAD_CMD(help_unknown_command, "unknown command 'extra'", "help", "extra")
BAD_CMD(list_models_extra_argument, "unexpected argument 'extra'", "list", "--models", "extra")
BAD_CMD(list_models_with_plugin, "does not mix", "list", "--models", "--plugin", "x.so")

Test(cli_bad_input, help_command_is_the_command_help)
{
    const char *argv[] = {"help", "prove", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: ropecheck prove") != NULL, "%s", r.out);
    cli_result_free(&r);
}

/* An empty --runner is a typo (exit 2), not a broken runner (exit 3). */
BAD_CMD(verify_runner_empty, "--runner needs a command", "verify", "--runner", "", "--quick")
BAD_CMD(prove_runner_empty, "--runner needs a command", "prove", "--runner", " ")
BAD_CMD(list_runner_empty, "--runner needs a command", "list", "--runner", "")
/* --memory-limit: a decimal count of MiB in [0, 2^30], for every command
 * that runs ports. */
BAD_CMD(verify_memory_limit_negative, "--memory-limit '-1'", "verify", "--memory-limit", "-1")
BAD_CMD(prove_memory_limit_junk, "--memory-limit", "prove", "--memory-limit", "8G")
BAD_CMD(bench_memory_limit_too_large, "--memory-limit '2000000000'", "bench", "--memory-limit",
        "2000000000")
