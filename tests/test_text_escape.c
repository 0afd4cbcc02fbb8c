/*
 * tests/test_text_escape.c - core/text_escape.c (untrusted text shown on
 * one line) and cli/shell_quote.c (replay words read back by a shell).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/shell_quote.h"
#include "core/text_escape.h"

static const char *escaped(const char *in)
{
    static char out[256];
    rc_escape_text(in, out, sizeof out);
    return out;
}

Test(text_escape, controls_become_escapes_and_text_stays)
{
    cr_expect_str_eq(escaped("plain text, 1.5 ULP"), "plain text, 1.5 ULP");
    cr_expect_str_eq(escaped("a\nb\tc\rd"), "a\\nb\\tc\\rd");
    cr_expect_str_eq(escaped("\033[2J\a\x7f"), "\\e[2J\\x07\\x7f");
    /* UTF-8 passes: é (C3 A9), ∞ (E2 88 9E), 😀 (F0 9F 98 80). */
    cr_expect_str_eq(escaped("\xc3\xa9 \xe2\x88\x9e \xf0\x9f\x98\x80"),
                     "\xc3\xa9 \xe2\x88\x9e \xf0\x9f\x98\x80");
    /* C1 controls (U+009B is CSI in some terminals), overlong forms,
     * surrogates, stray continuation and truncated sequences: escaped. */
    cr_expect_str_eq(escaped("\xc2\x9b"), "\\xc2\\x9b");
    cr_expect_str_eq(escaped("\xc0\xaf"), "\\xc0\\xaf");
    cr_expect_str_eq(escaped("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    cr_expect_str_eq(escaped("\x80x"), "\\x80x");
    cr_expect_str_eq(escaped("\xe2\x88"), "\\xe2\\x88");
    cr_expect_str_eq(escaped("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
}

Test(text_escape, a_cut_is_marked_and_never_splits_an_escape)
{
    char out[12];
    size_t n = rc_escape_text("abcdefghijklmnop", out, sizeof out);
    cr_expect_str_eq(out, "abcdefgh...");
    cr_expect_eq(n, strlen(out));
    n = rc_escape_text("abcdef\n\n\n", out, sizeof out);
    cr_expect_str_eq(out, "abcdef\\n...");
    rc_escape_text("\xe2\x88\x9e\xe2\x88\x9e\xe2\x88\x9e", out, sizeof out);
    cr_expect_str_eq(out, "\xe2\x88\x9e\xe2\x88\x9e...");
    char tiny[1];
    cr_expect_eq(rc_escape_text("abc", tiny, sizeof tiny), 0);
    cr_expect_eq(tiny[0], '\0');
}

Test(text_escape, plain_means_nothing_to_escape)
{
    cr_expect(rc_text_is_plain("AVX2 + FMA, \xc3\xa9"));
    cr_expect(rc_text_is_plain(""));
    cr_expect(!rc_text_is_plain("two\nlines"));
    cr_expect(!rc_text_is_plain("\033[31mred"));
    cr_expect(!rc_text_is_plain("\xff"));
}

/* Each word, quoted, is handed to bash, which must give back its bytes
 * exactly: the quoting is judged by a real shell, not by its own rules. */
Test(shell_quote, bash_reads_every_word_back)
{
    static const char *const words[] = {
        "plain", "", "with blank", "it's", "$(touch /nonexistent/pwned)", "`id`", "a\"b",
        "new\nline", "esc\033[2J", "tab\there", "back\\slash", "*?[glob]", "'''", "\x7f\x01",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char quoted[512], cmd[1024];
        rc_shell_quote(words[i], quoted, sizeof quoted);
        cr_expect(strchr(quoted, '\n') == NULL && strchr(quoted, '\033') == NULL,
                  "word %zu: a control character left raw in %s", i, quoted);
        /* The line reaches bash untouched through the environment (popen's
         * /bin/sh may be dash, which has no $'...'). */
        snprintf(cmd, sizeof cmd, "printf %%s %s", quoted);
        setenv("RC_REPLAY_LINE", cmd, 1);
        FILE *f = popen("bash -c \"$RC_REPLAY_LINE\"", "r");
        cr_assert_not_null(f);
        char back[256] = "";
        size_t n = fread(back, 1, sizeof back - 1, f);
        back[n] = '\0';
        cr_expect_eq(pclose(f), 0, "word %zu: bash failed on %s", i, quoted);
        cr_expect(n == strlen(words[i]) && memcmp(back, words[i], n) == 0,
                  "word %zu: quoted as %s, read back as '%s'", i, quoted, back);
    }
}

Test(shell_quote, reports_the_length_it_needs)
{
    char small[4];
    size_t need = rc_shell_quote("abcdef", small, sizeof small);
    cr_expect_eq(need, 8); /* 'abcdef' */
    cr_expect_eq(strlen(small), 3);
}
