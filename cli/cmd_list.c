/*
 * cli/cmd_list.c - `ropecheck list`: every implementation, whether it can
 * run here, why not, and what it offers.
 */
#include <getopt.h>

#include "cli/python_runner.h"
#include "cli/model_config.h"
#include <stdio.h>
#include <string.h>

#include "cli/caps.h"
#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/impl_select.h"

static const char usage_text[] =
    "usage: ropecheck list [--plugin PATH]... | ropecheck list --runner COMMAND\n"
    "       ropecheck list --python SPEC\n"
    "       ropecheck list --models\n"
    "\n"
    "Lists the built-in implementations (and any plug-ins named), whether each is\n"
    "available on this machine and, if not, why; then what each offers. With\n"
    "--runner, lists what a ropecheck-runner started by /bin/sh -c COMMAND offers\n"
    "(another machine, an emulator: runner/PROTOCOL.md). With --models, lists the\n"
    "built-in model configs that --model NAME accepts.\n"
    "\n"
    "Exit status: 0 listed, 2 bad usage or a plug-in that is not a valid one, 3 a\n"
    "plug-in that crashed, hung or exited while loading (listed as BROKEN).\n";

static void list_models(void)
{
    for (size_t i = 0; i < rc_model_preset_count(); i++) {
        rc_model_config cfg;
        char err[256], line[512];
        if (rc_model_preset(rc_model_preset_name(i), &cfg, err, sizeof err) != 0) {
            printf("%s: %s\n", rc_model_preset_name(i), err);
            continue;
        }
        rc_model_config_describe(&cfg, line, sizeof line);
        printf("%s\n    %s\n", line, rc_model_preset_description(i));
        rc_model_config_free(&cfg);
    }
}

int rc_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {{"plugin", required_argument, NULL, 'p'},
                                         {"runner", required_argument, NULL, 'r'},
                                         {"python", required_argument, NULL, 'P'},
                                         {"models", no_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *plugins[16];
    size_t n_plugins = 0;
    const char *runner = NULL;
    int models = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return RC_EXIT_PASS;
        case 'r':
        case 'P': {
            char why[512];
            if (rc_runner_option(c == 'P' ? "python" : "runner", optarg, &runner, why,
                                 sizeof why) != 0) {
                rc_cli_error("list", "%s", why);
                return RC_EXIT_USAGE;
            }
            break;
        }
        case 'm': models = 1; break;
        case 'p':
            if (n_plugins == 16) {
                rc_cli_error("list", "more than 16 --plugin options");
                return RC_EXIT_USAGE;
            }
            plugins[n_plugins++] = optarg;
            break;
        case ':':
            rc_cli_error("list", "option %s needs a value", argv[optind - 1]);
            return RC_EXIT_USAGE;
        default:
            rc_cli_error("list", "unknown option '%s' (see ropecheck list --help)",
                    argv[optind - 1]);
            return RC_EXIT_USAGE;
        }
    }
    /* Every argument is read before anything is listed: an extra word or
     * a mixed form is a typo to report, not something to ignore. */
    if (optind < argc) {
        rc_cli_error("list", "unexpected argument '%s'", argv[optind]);
        return RC_EXIT_USAGE;
    }
    if (models && (runner || n_plugins)) {
        rc_cli_error("list", "--models lists model configs; it does not mix with "
                        "--plugin or --runner");
        return RC_EXIT_USAGE;
    }
    if (models) {
        list_models();
        return RC_EXIT_PASS;
    }
    char err[512];
    rc_target_list t;
    const char *all = "all";
    if (runner && n_plugins) {
        rc_cli_error("list", "--runner and --plugin do not mix");
        return RC_EXIT_USAGE;
    }
    if (runner) {
        int sel = rc_targets_select_runner(runner, NULL, 0, 10.0, &t, err, sizeof err);
        if (sel != 0) {
            rc_cli_error("list", "%s%s", sel == -2 ? "BROKEN: " : "", err);
            return sel == -2 ? RC_EXIT_BROKEN : RC_EXIT_USAGE;
        }
    } else if (rc_targets_select(&all, 1, plugins, n_plugins, 10.0, &t, err, sizeof err) != 0) {
        rc_cli_error("list", "%s", err);
        return RC_EXIT_USAGE;
    }
    int broken = 0;
    for (size_t i = 0; i < t.n; i++) {
        const rc_target *x = &t.items[i];
        char caps[256];
        rc_caps_text(x->impl->caps, caps, sizeof caps);
        broken |= x->broken;
        if (x->broken)
            printf("%s: %s\n", x->impl->name, x->why);
        else if (x->available)
            printf("%s: available (%s)\n", x->impl->name,
                   x->impl->description ? x->impl->description : "no description");
        else
            printf("%s: unavailable (%s)\n", x->impl->name, x->why);
        printf("    offers: %s\n", caps);
        if (x->plugin_path)
            printf("    plug-in: %s\n", x->plugin_path);
    }
    rc_targets_free(&t);
    /* Listed, but a plug-in that cannot even be loaded is a finding. */
    return broken ? RC_EXIT_BROKEN : RC_EXIT_PASS;
}
