/* FILE: second.bpf.c
 * DESCRIPTION: the other object tests/test_linked.py links; see first.bpf.c.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int helper(long len)
{
	return len < 80 ? 1 : 0;
}

SEC("xdp")
int second(struct xdp_md *ctx)
{
	long len = (long)ctx->data_end - (long)ctx->data;

	return helper(len) ? XDP_PASS : XDP_DROP;
}
