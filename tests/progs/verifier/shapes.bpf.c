/* FILE: shapes.bpf.c
 * DESCRIPTION: code whose shape the verifier checks and which counting must
 *   not change, for tests/test_verifier_shapes.py; each a small form of a
 *   kernel selftest that failed instrumented, run with BPF_PROG_TEST_RUN;
 *   every branch depends on the packet, the lookup or the map value the
 *   test writes.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2

/* A global function that does not read its argument (test_global_func8):
 * the verifier still checks that callers pass ctx. */
__attribute__((noinline)) int ignores_ctx(struct __sk_buff *skb)
{
	return bpf_get_smp_processor_id() < 100000;
}

SEC("tc")
int unused_argument(struct __sk_buff *skb)
{
	if (!ignores_ctx(skb))
		return TC_ACT_SHOT;
	return skb->len > 100 ? TC_ACT_SHOT : TC_ACT_OK;
}

/* ctx->sk is read twice; the second read must stay the first's value, which
 * was checked against NULL (test_sk_lookup's access_ctx_sk). */
SEC("sk_lookup")
int checked_then_used(struct bpf_sk_lookup *ctx)
{
	if (ctx->sk && ctx->sk->family != AF_INET)
		return SK_DROP;
	return SK_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} opts SEC(".maps");

/* *f and skb->len both sit at offset 0: two loads that must not become one
 * load reached with both pointers (test_sockmap_kern's bpf_prog1). */
SEC("tc")
int value_or_len(struct __sk_buff *skb)
{
	int zero = 0, *f;

	f = bpf_map_lookup_elem(&opts, &zero);
	if (f && *f)
		return *f;
	return skb->len;
}

char _license[] SEC("license") = "GPL";
