/* SPDX-License-Identifier: MIT */
/* The supervisor's pure parts: which programs it takes (the ELF detection
 * of shim/supervise/elf.c, on ELF files written here: static, dynamic, Go
 * static, Go dynamic, and files that are no 64-bit ELF program or are cut
 * short), and its retry decision (decide.c: sv_decide) with the clock
 * passed in. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "supervise/supervise.h"
#include "supervise/sv.h"
#include "suites.h"

/* ---- ELF files ------------------------------------------------------------ */

#define INTERP "/lib64/ld-linux-x86-64.so.2"
#define PH_OFF 64
#define INTERP_OFF 256
#define STR_OFF 320
#define SH_OFF 512

struct elf_spec {
    int interp;             /* a PT_INTERP */
    const char *section;    /* the name of section 1, or NULL: none */
    int class32;            /* ELFCLASS32 in e_ident */
    size_t cut;             /* keep only the first cut bytes; 0: all */
    unsigned shnum;         /* e_shnum when not 0 */
    unsigned name_at;       /* section 1's sh_name when not 0 */
};

static char dir[] = "/tmp/hu_unit_elf.XXXXXX";

static void put(unsigned char *img, size_t at, const void *p, size_t n)
{
    memcpy(img + at, p, n);
}

/* A file at dir/name with the ELF image sp describes; returns its path. */
static const char *write_elf(const char *name, const struct elf_spec *sp)
{
    static char path[128];
    unsigned char img[SH_OFF + 3 * sizeof(Elf64_Shdr)];
    memset(img, 0, sizeof img);
    Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_phoff = PH_OFF, .e_shoff = SH_OFF, .e_ehsize = sizeof eh,
                     .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
                     .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 3, .e_shstrndx = 2};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = sp->class32 ? ELFCLASS32 : ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    if (sp->shnum)
        eh.e_shnum = (Elf64_Half)sp->shnum;
    put(img, 0, &eh, sizeof eh);
    Elf64_Phdr load = {.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_filesz = sizeof img};
    Elf64_Phdr second = {.p_type = sp->interp ? PT_INTERP : PT_NOTE, .p_offset = INTERP_OFF,
                         .p_filesz = sizeof INTERP};
    put(img, PH_OFF, &load, sizeof load);
    put(img, PH_OFF + sizeof load, &second, sizeof second);
    put(img, INTERP_OFF, INTERP, sizeof INTERP);
    /* the section names: "", the one asked for, ".shstrtab" */
    const char *sec = sp->section ? sp->section : ".text";
    size_t shstrtab_name = 1 + strlen(sec) + 1;
    put(img, STR_OFF + 1, sec, strlen(sec) + 1);
    put(img, STR_OFF + shstrtab_name, ".shstrtab", 10);
    Elf64_Shdr s1 = {.sh_name = sp->name_at ? sp->name_at : 1, .sh_type = SHT_PROGBITS};
    Elf64_Shdr s2 = {.sh_name = (Elf64_Word)shstrtab_name, .sh_type = SHT_STRTAB,
                     .sh_offset = STR_OFF, .sh_size = shstrtab_name + 10};
    put(img, SH_OFF + sizeof(Elf64_Shdr), &s1, sizeof s1);
    put(img, SH_OFF + 2 * sizeof(Elf64_Shdr), &s2, sizeof s2);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(img, 1, sp->cut ? sp->cut : sizeof img, f), sp->cut ? sp->cut : sizeof img);
    fclose(f);
    return path;
}

static const char *write_bytes(const char *name, const void *p, size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
    return path;
}

static void elf_setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void elf_teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/hu_unit_elf.XXXXXX");
}

START_TEST(elf_static)
{
    struct elf_spec sp = {0};
    const char *p = write_elf("static", &sp);
    char interp[64];
    ck_assert_int_eq(hu_sv_elf_interp(p, interp, sizeof interp), 0);
    ck_assert_str_eq(interp, "");
    ck_assert_int_eq(hu_sv_program_kind(p), HU_SV_STATIC);
}
END_TEST

START_TEST(elf_dynamic)
{
    struct elf_spec sp = {.interp = 1};
    const char *p = write_elf("dynamic", &sp);
    char interp[64];
    ck_assert_int_eq(hu_sv_elf_interp(p, interp, sizeof interp), 1);
    ck_assert_str_eq(interp, INTERP);
    ck_assert_int_eq(hu_sv_program_kind(p), HU_SV_DYNAMIC);
    /* a buffer too small: cut, still a string */
    ck_assert_int_eq(hu_sv_elf_interp(p, interp, 8), 1);
    ck_assert_str_eq(interp, "/lib64/");
}
END_TEST

START_TEST(elf_go_static_and_dynamic)
{
    struct elf_spec go_static = {.section = ".go.buildinfo"};
    struct elf_spec go_dynamic = {.interp = 1, .section = ".note.go.buildid"};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("go_static", &go_static)), HU_SV_GO);
    ck_assert_int_eq(hu_sv_program_kind(write_elf("go_dynamic", &go_dynamic)), HU_SV_GO);
    /* a name that only starts like Go's is not Go's */
    struct elf_spec near = {.interp = 1, .section = ".go.buildinfoX"};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("near", &near)), HU_SV_DYNAMIC);
}
END_TEST

START_TEST(elf_this_system)
{
    /* the shell is a dynamically linked C program */
    ck_assert_int_eq(hu_sv_program_kind("/bin/sh"), HU_SV_DYNAMIC);
}
END_TEST

START_TEST(elf_not_programs)
{
    static const char script[] = "#!/bin/sh\necho hi\n";
    unsigned char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (unsigned char)(i * 131 + 7);
    ck_assert_int_eq(hu_sv_program_kind(write_bytes("script", script, sizeof script - 1)), HU_SV_NOT_ELF);
    ck_assert_int_eq(hu_sv_program_kind(write_bytes("garbage", garbage, sizeof garbage)), HU_SV_NOT_ELF);
    ck_assert_int_eq(hu_sv_program_kind(write_bytes("empty", "", 0)), HU_SV_NOT_ELF);
    ck_assert_int_eq(hu_sv_program_kind(write_bytes("magic", ELFMAG, SELFMAG)), HU_SV_NOT_ELF);
    struct elf_spec class32 = {.interp = 1, .class32 = 1};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("class32", &class32)), HU_SV_NOT_ELF);
    struct elf_spec short_header = {.cut = 40};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("short", &short_header)), HU_SV_NOT_ELF);
    char path[160];
    snprintf(path, sizeof path, "%s/missing", dir);
    ck_assert_int_eq(hu_sv_program_kind(path), HU_SV_NOT_ELF);
    ck_assert_int_eq(hu_sv_program_kind(dir), HU_SV_NOT_ELF);     /* a directory */
    ck_assert_int_eq(hu_sv_program_kind(""), HU_SV_NOT_ELF);
    ck_assert_int_eq(hu_sv_program_kind(NULL), HU_SV_NOT_ELF);
}
END_TEST

START_TEST(elf_cut_short_and_bad_tables)
{
    /* the header promises program and section headers the file lacks:
     * read as far as it goes, never taken for Go */
    struct elf_spec cut = {.interp = 1, .section = ".go.buildinfo", .cut = 100};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("cut", &cut)), HU_SV_STATIC);
    struct elf_spec cut_sections = {.interp = 1, .section = ".go.buildinfo", .cut = SH_OFF + 10};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("cut_sections", &cut_sections)), HU_SV_DYNAMIC);
    /* a section name beyond the string table */
    struct elf_spec far = {.section = ".go.buildinfo", .name_at = 5000};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("far", &far)), HU_SV_STATIC);
    /* an absurd section count is not walked */
    struct elf_spec many = {.section = ".go.buildinfo", .shnum = 60000};
    ck_assert_int_eq(hu_sv_program_kind(write_elf("many", &many)), HU_SV_STATIC);
}
END_TEST

Suite *sv_elf_suite(void)
{
    Suite *s = suite_create("sv_elf");
    TCase *tc = tcase_create("kind");
    tcase_add_checked_fixture(tc, elf_setup, elf_teardown);
    tcase_add_test(tc, elf_static);
    tcase_add_test(tc, elf_dynamic);
    tcase_add_test(tc, elf_go_static_and_dynamic);
    tcase_add_test(tc, elf_this_system);
    tcase_add_test(tc, elf_not_programs);
    tcase_add_test(tc, elf_cut_short_and_bad_tables);
    suite_add_tcase(s, tc);
    return s;
}

/* ---- the retry decision ---------------------------------------------------- */

/* the adapter draws its jitter from the thread's generator (engine/retry.c,
 * not linked here): this one, seeded by each test */
static hu_rng test_rng;
hu_rng *hu_thread_rng(void)
{
    return &test_rng;
}

static hu_policy *pol;

static const hu_rule *rule(const char *text)
{
    if (pol)
        hu_policy_free(pol);
    pol = hu_policy_parse(text);
    ck_assert_ptr_nonnull(pol);
    ck_assert_uint_eq(pol->nerrors, 0);
    return hu_policy_match(pol, NULL, NULL, 0);
}

static void decide_teardown(void)
{
    hu_policy_free(pol);
    pol = NULL;
}

START_TEST(decide_not_retried)
{
    const hu_rule *r = rule("* attempts=5");
    sv_retry t;
    hu_rng_seed(&test_rng, 1);
    sv_retry_init(&t, r, 0, 0);
    /* ECONNREFUSED is not in the default retry_on: given up at once; a
     * first failure that was never retried is no give-up (reason -1, not
     * counted) and writes no record */
    sv_decision d = sv_decide(&t, ECONNREFUSED, 0, 0);
    ck_assert_int_eq(d.next, SV_GIVE_UP);
    ck_assert_int_eq(d.err, ECONNREFUSED);
    ck_assert_int_eq(d.reason, -1);
    ck_assert_int_eq(d.log, 0);
    /* after a retry it is a record */
    t.a.attempt = 2;
    d = sv_decide(&t, ECONNREFUSED, 0, 0);
    ck_assert_int_eq(d.reason, HU_GU_ERROR);
    ck_assert_int_eq(d.log, 1);
}
END_TEST

START_TEST(decide_attempts_and_delays)
{
    const hu_rule *r = rule("* attempts=4 backoff=100ms..400ms jitter=none deadline=10m");
    sv_retry t;
    hu_rng_seed(&test_rng, 1);
    sv_retry_init(&t, r, 0, 0);
    static const unsigned want[] = {100, 200, 400};
    int64_t now = 0;
    for (unsigned i = 0; i < 3; i++) {
        sv_decision d = sv_decide(&t, EHOSTUNREACH, 0, now);
        ck_assert_int_eq(d.next, SV_WAIT);
        ck_assert_uint_eq(d.delay_ms, want[i]);
        now += d.delay_ms;
        t.a.attempt++;    /* the loop's next try */
    }
    sv_decision d = sv_decide(&t, EHOSTUNREACH, 0, now);
    ck_assert_int_eq(d.next, SV_GIVE_UP);
    ck_assert_int_eq(d.reason, HU_GU_ATTEMPTS);
    ck_assert_int_eq(d.err, EHOSTUNREACH);
    ck_assert_int_eq(d.log, 1);
}
END_TEST

START_TEST(decide_deadline_fake_clock)
{
    const hu_rule *r = rule("* attempts=100 backoff=100ms..100ms jitter=none");
    sv_retry t;
    hu_rng_seed(&test_rng, 1);
    sv_retry_init(&t, r, 10000, 10000 + 1000);   /* began at 10 s, 1 s to go */
    sv_decision d = sv_decide(&t, EHOSTUNREACH, 0, 10000 + 899);
    ck_assert_int_eq(d.next, SV_WAIT);  /* 899 + 100 < 1000 */
    t.a.attempt++;
    d = sv_decide(&t, EHOSTUNREACH, 0, 10000 + 900);
    ck_assert_int_eq(d.next, SV_GIVE_UP);   /* the next try would be at the end */
    ck_assert_int_eq(d.reason, HU_GU_DEADLINE);
    ck_assert_int_eq(d.err, EHOSTUNREACH);
}
END_TEST

START_TEST(decide_cut_keeps_kernel_errno)
{
    const hu_rule *r = rule("* attempts=3 backoff=10ms..10ms jitter=none retry_on=EHOSTUNREACH|ETIMEDOUT");
    sv_retry t;
    hu_rng_seed(&test_rng, 1);
    sv_retry_init(&t, r, 0, 0);
    /* a try our own timeout cut short, before the kernel said anything:
     * decided as ETIMEDOUT */
    sv_decision d = sv_decide(&t, ETIMEDOUT, 1, 0);
    ck_assert_int_eq(d.next, SV_WAIT);
    t.a.attempt++;
    d = sv_decide(&t, EHOSTUNREACH, 0, 10);
    ck_assert_int_eq(d.next, SV_WAIT);
    t.a.attempt++;
    /* the last try is cut: the program gets the errno the kernel gave */
    d = sv_decide(&t, ETIMEDOUT, 1, 20);
    ck_assert_int_eq(d.next, SV_GIVE_UP);
    ck_assert_int_eq(d.reason, HU_GU_ATTEMPTS);
    ck_assert_int_eq(d.err, EHOSTUNREACH);
    ck_assert_int_eq(t.a.last_real, EHOSTUNREACH);
}
END_TEST

START_TEST(decide_same_seed_same_delays)
{
    const hu_rule *r = rule("* attempts=20 backoff=100ms..2s jitter=full deadline=10m");
    unsigned first[19];
    for (int run = 0; run < 2; run++) {
        sv_retry t;
        hu_rng_seed(&test_rng, 7);
        sv_retry_init(&t, r, 0, 0);
        for (int i = 0; i < 19; i++) {
            sv_decision d = sv_decide(&t, EHOSTUNREACH, 0, 0);
            ck_assert_int_eq(d.next, SV_WAIT);
            ck_assert_uint_le(d.delay_ms, 2000);
            if (run == 0)
                first[i] = d.delay_ms;
            else
                ck_assert_uint_eq(d.delay_ms, first[i]);
            t.a.attempt++;
        }
    }
}
END_TEST

Suite *sv_decide_suite(void)
{
    Suite *s = suite_create("sv_decide");
    TCase *tc = tcase_create("decide");
    tcase_add_checked_fixture(tc, NULL, decide_teardown);
    tcase_add_test(tc, decide_not_retried);
    tcase_add_test(tc, decide_attempts_and_delays);
    tcase_add_test(tc, decide_deadline_fake_clock);
    tcase_add_test(tc, decide_cut_keeps_kernel_errno);
    tcase_add_test(tc, decide_same_seed_same_delays);
    suite_add_tcase(s, tc);
    return s;
}
