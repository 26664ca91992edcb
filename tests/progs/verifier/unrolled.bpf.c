/* FILE: unrolled.bpf.c
 * DESCRIPTION: a tc program whose loop is fully unrolled, with a `break` in
 *   every copy, and that calls an inlined function three times in one block
 *   (the shapes of the kernel selftests strobemeta and test_verif_scale3),
 *   for tests/test_verifier_shapes.py. bpfcov counts the `break` in each
 *   copy's branch (FoldCounterBlocks.cpp) and adds 3 to the inlined
 *   function's counter once per copy (MergeCounterAdds.cpp). The packet is a
 *   count, then the bytes to hash.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_BYTES 8

static __always_inline __u32 rol(__u32 x, int k)
{
	return (x << k) | (x >> (32 - k));
}

SEC("tc")
int byte_hash(struct __sk_buff *skb)
{
	unsigned char bytes[1 + MAX_BYTES];
	__u32 hash = 0;
	int n;

	if (bpf_skb_load_bytes(skb, 0, bytes, sizeof(bytes)) < 0)
		return 0;
	n = bytes[0];
#pragma unroll
	for (int i = 0; i < MAX_BYTES; i++) {
		if (i >= n)
			break;
		hash = rol(hash, 5) ^ rol(bytes[1 + i], 3) ^ rol(hash, 11);
	}
	return hash & 0xffff;
}

char _license[] SEC("license") = "GPL";
