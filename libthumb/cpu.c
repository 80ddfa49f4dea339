/* CPU feature detection: once per process, read-only afterwards.
 *
 * AVX2 needs three things: the CPU has it (CPUID leaf 7 EBX bit 5), the OS enabled XSAVE
 * (leaf 1 ECX bit 27, OSXSAVE) and the OS saves the YMM state on context switches
 * (XCR0 bits 1 and 2). Checking only the first is the classic bug on VMs with AVX disabled.
 * THUMB_CPU_AVX2 also asks for BMI2 (leaf 7 EBX bit 8; every AVX2 CPU made has it): the entropy
 * decoder's shifts use it. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    /* xgetbv by opcode-free mnemonic; the _xgetbv intrinsic would need target("xsave"). */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 27)))                      /* OSXSAVE: xgetbv is usable */
        return 0;
    if ((read_xcr0() & 0x6) != 0x6)             /* XMM and YMM state saved by the OS */
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) && (b & (1u << 8)) ? THUMB_CPU_AVX2 : 0;
}
#else
static unsigned detect(void) { return 0; }
#endif

/* Bit 31 marks "detected". Two threads racing here compute the same value, so the race is
 * benign; the atomic makes it well-defined. */
#define CPU_KNOWN 0x80000000u
static _Atomic unsigned cpu_features_cache;

unsigned thumb__cpu_features(void)
{
    unsigned f = atomic_load_explicit(&cpu_features_cache, memory_order_acquire);
    if (f & CPU_KNOWN)
        return f & ~CPU_KNOWN;
    f = detect();
    const char *force = getenv("THUMB_FORCE_SCALAR");
    if (force && *force && strcmp(force, "0") != 0)
        f = 0;
    atomic_store_explicit(&cpu_features_cache, f | CPU_KNOWN, memory_order_release);
    return f;
}

const char *thumb_simd_name(void)
{
    return (thumb__cpu_features() & THUMB_CPU_AVX2) ? "avx2" : "scalar";
}
