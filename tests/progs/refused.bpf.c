// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program the verifier refuses: it reads the packet without checking its
 * length. Its object's maps are created (libbpf makes them before loading any
 * program), but no program of it ever loads.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int refused(struct xdp_md *ctx)
{
	int *first = (int *)(long)ctx->data;

	return *first > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
