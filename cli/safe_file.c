/*
 * cli/safe_file.c - atomic results files and bounded reads
 * (cli/safe_file.h).
 */
#include "cli/safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." when it has none), in buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == path)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int rc_output_check(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (!path || !*path) {
        snprintf(err, err_len, "empty output path");
        return -1;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "'%s' is not a regular file (results go to regular files only)",
                 path);
        return -1;
    }
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "cannot write '%s': directory '%s' does not exist", path, dir);
        return -1;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(err, err_len, "cannot write '%s': directory '%s' is not writable (%s)", path,
                 dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Every byte, through short writes and EINTR. 0 or -1 (errno set). */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rc_atomic_write(const char *path, const void *data, size_t len, char *err, size_t err_len)
{
    if (rc_output_check(path, err, err_len) != 0)
        return -1;
    char tmp[4200];
    const char *base = strrchr(path, '/');
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base ? base + 1 : path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_len, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    /* A file-size limit (ulimit -f) must fail the write with EFBIG, not
     * kill the process with SIGXFSZ and leave the temporary file behind. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_xfsz;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, &old_xfsz);
    /* mkstemp makes 0600; a results file is as readable as any other. */
    mode_t mask = umask(0);
    umask(mask);
    int rc = fchmod(fd, 0666 & ~mask);
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (rc == 0)
        rc = fsync(fd);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    sigaction(SIGXFSZ, &old_xfsz, NULL);
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, err_len, "cannot write '%s': %s (any earlier file is unchanged)", path,
                 strerror(saved));
        return -1;
    }
    return 0;
}

char *rc_read_regular_file(const char *path, size_t max_bytes, size_t *len_out, char *err,
                           size_t err_len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
     * refused by the fstat below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "'%s' is not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        snprintf(err, err_len, "'%s' is %lld bytes, more than the %zu this input may have",
                 path, (long long)st.st_size, max_bytes);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        snprintf(err, err_len, "out of memory reading '%s'", path);
    while (buf) {
        /* Read one byte past the size seen: a file that grew is refused. */
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            break;
        if (n < 0)
            snprintf(err, err_len, "cannot read '%s': %s", path, strerror(errno));
        else if ((len += (size_t)n) < cap)
            continue;
        else
            snprintf(err, err_len, "'%s' grew while being read", path);
        free(buf);
        buf = NULL;
    }
    close(fd);
    if (buf) {
        buf[len] = '\0';
        if (len_out)
            *len_out = len;
    }
    return buf;
}
