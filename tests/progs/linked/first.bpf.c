/* FILE: first.bpf.c
 * DESCRIPTION: one of two objects tests/test_linked.py links into one with
 *   bpftool gen object. Its static helper has the same name as the other's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int helper(long len)
{
	return len > 100 ? 1 : 0;
}

SEC("xdp")
int first(struct xdp_md *ctx)
{
	long len = (long)ctx->data_end - (long)ctx->data;

	if (helper(len))
		return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
