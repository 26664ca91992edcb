/* FILE: naked.bpf.c
 * DESCRIPTION: naked functions, as the kernel's verifier selftests write them,
 *   for tests/test_verifier_shapes.py. Their asm reads the registers the
 *   function is entered with (r1 = ctx, r1 = the argument), so an increment
 *   before the asm would break them: bpfcov leaves them uninstrumented. The C
 *   program beside them is counted as usual. Build with -DUNCOUNTED to declare
 *   the naked ones no_profile_instrument_function (the test's oracle).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifdef UNCOUNTED
#define NAKED __attribute__((naked, no_profile_instrument_function))
#else
#define NAKED __attribute__((naked))
#endif

/* XDP_PASS for frames of 14 bytes or more whose byte 12 is 0x08 (IPv4 or
 * ARP), else XDP_DROP: packet access the verifier checks against data_end. */
SEC("xdp")
NAKED int naked_ether(void)
{
	asm volatile("r2 = *(u32 *)(r1 + 0);"	/* data */
		     "r3 = *(u32 *)(r1 + 4);"	/* data_end */
		     "r0 = 1;"			/* XDP_DROP */
		     "r4 = r2;"
		     "r4 += 14;"
		     "if r4 > r3 goto 1f;"
		     "r4 = *(u8 *)(r2 + 12);"
		     "if r4 != 8 goto 1f;"
		     "r0 = 2;"			/* XDP_PASS */
		     "1: exit;" ::: "memory");
}

/* Twice its argument. */
static NAKED __attribute__((noinline)) unsigned int twice(unsigned int x)
{
	asm volatile("r0 = r1;"
		     "r0 += r1;"
		     "exit;" ::: "memory");
}

SEC("xdp")
int calls_naked(struct xdp_md *ctx)
{
	unsigned int len = ctx->data_end - ctx->data;

	if (twice(len) > 200)
		return XDP_PASS;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
