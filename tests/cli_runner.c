/*
 * tests/cli_runner.c - see cli_runner.h. ROPECHECK_BIN is the path of the
 * built command (a compile definition from tests/CMakeLists.txt).
 */
#include "test_seed.h"
#include "cli_runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(FILE *f)
{
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    if (buf)
        buf[got] = '\0';
    return buf;
}

cli_result cli_run(const char *const *argv)
{
    return cli_run_limited(argv, 0);
}

cli_result cli_run_limited(const char *const *argv, long fsize_limit)
{
    cli_result r = {.status = -1};
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err)
        return r;
    size_t n = 0;
    while (argv[n])
        n++;
    const char **full = calloc(n + 2, sizeof *full);
    full[0] = ROPECHECK_BIN;
    memcpy(full + 1, argv, n * sizeof *full);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (fsize_limit > 0) {
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        execv(ROPECHECK_BIN, (char *const *)full);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out);
    r.err = slurp(err);
    fclose(out);
    fclose(err);
    free(full);
    return r;
}

void cli_result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *cli_test_seed(const char *who)
{
    static char text[32];
    if (!text[0])
        snprintf(text, sizeof text, "%llu", (unsigned long long)rc_test_seed(who, 1));
    return text;
}

int cli_count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}
