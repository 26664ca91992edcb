/* FILE: weak1.bpf.c (with weak2.bpf.c)
 * DESCRIPTION: two objects that both define the weak function pick, as the
 *   kernel's linked_funcs selftest does, linked with bpftool gen object. The
 *   linker keeps the first object's pick; both programs then call it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((weak, noinline)) int pick(unsigned int len)
{
	if (len > 60)
		return 1;
	return 0;
}

SEC("xdp")
int first(struct xdp_md *ctx)
{
	return pick(ctx->data_end - ctx->data) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
