/* FILE: returns.bpf.c
 * DESCRIPTION: a tc program that returns early on every path but one, after
 *   helper calls whose results the verifier follows (the shape of the kernel
 *   selftest test_sysctl_loop2), for tests/test_verifier_shapes.py. The
 *   optimiser sinks the counter increments that end those paths into the one
 *   exit block; bpfcov puts each back on its own path. The packet is a tag,
 *   then NUMBERS fields of FIELD characters, each a decimal number.
 *   nonzero_bytes counts the packet's first 16 bytes that are not 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NUMBERS 4
#define FIELD 7

const char tag[] = "counted";

static __attribute__((noinline)) int starts_with_tag(struct __sk_buff *skb)
{
	char head[sizeof(tag)];
	unsigned char i;

	__builtin_memset(head, 0, sizeof(head));
	if (bpf_skb_load_bytes(skb, 0, head, sizeof(head) - 1) < 0)
		return 0;
#pragma clang loop unroll(disable)
	for (i = 0; i < sizeof(tag); ++i)
		if (head[i] != tag[i])
			return 0;
	return 1;
}

SEC("tc")
int ascending(struct __sk_buff *skb)
{
	unsigned long nums[NUMBERS] = {};
	char text[NUMBERS * FIELD];
	unsigned char i, off = 0;
	int ret;

	if (skb->len < sizeof(tag) - 1 + sizeof(text))
		return 0;
	if (!starts_with_tag(skb))
		return 0;
	ret = bpf_skb_load_bytes(skb, sizeof(tag) - 1, text, sizeof(text));
	if (ret < 0)
		return 0;
#pragma clang loop unroll(disable)
	for (i = 0; i < NUMBERS; ++i) {
		ret = bpf_strtoul(text + off, FIELD, 0, nums + i);
		if (ret <= 0)
			return 0;
		off += ret & FIELD; /* what keeps off in range for the verifier */
	}
	return nums[0] < nums[1] && nums[1] < nums[2];
}

/* A loop whose `continue` goes through a block that only counts: bpfcov
 * counts it in the branching block instead (FoldCounterBlocks.cpp). */
SEC("tc")
int nonzero_bytes(struct __sk_buff *skb)
{
	unsigned char bytes[16];
	int i, n = 0;

	if (bpf_skb_load_bytes(skb, 0, bytes, sizeof(bytes)) < 0)
		return 0;
#pragma clang loop unroll(disable)
	for (i = 0; i < sizeof(bytes); i++) {
		if (!bytes[i])
			continue;
		n++;
	}
	return n;
}

char _license[] SEC("license") = "GPL";
