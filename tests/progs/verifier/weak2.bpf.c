/* FILE: weak2.bpf.c (with weak1.bpf.c)
 * DESCRIPTION: the second definition of the weak pick: the same shape (so the
 *   same function hash as clang computes it), another threshold.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((weak, noinline)) int pick(unsigned int len)
{
	if (len > 100)
		return 1;
	return 0;
}

SEC("xdp")
int second(struct xdp_md *ctx)
{
	return pick(ctx->data_end - ctx->data) ? XDP_PASS : XDP_DROP;
}
