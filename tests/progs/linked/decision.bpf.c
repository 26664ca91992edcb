/* FILE: decision.bpf.c
 * DESCRIPTION: a three-condition decision, linked by tests/test_linked.py with
 *   examples/mcdc/acl.bpf.c to check MC/DC bitmaps across linked objects.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int decision(struct xdp_md *ctx)
{
	long len = (long)ctx->data_end - (long)ctx->data;

	if (len > 20 && len < 100 && (len & 1))
		return XDP_PASS;
	return XDP_DROP;
}
