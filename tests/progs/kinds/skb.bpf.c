/* FILE: skb.bpf.c
 * DESCRIPTION: programs of the skb-based types BPF_PROG_TEST_RUN runs, for
 *   tests/test_program_types.py: a tc classifier calling a global (separately
 *   verified) function, a socket filter whose work is a bpf_loop callback, and a
 *   cgroup_skb program. Each branch depends only on skb->len, so the test knows
 *   every count from the packet sizes it sends.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Global: the verifier checks it once, on its own, not per caller. */
__attribute__((noinline)) int size_class(unsigned int len)
{
	if (len > 100)
		return 2;
	return len > 60 ? 1 : 0;
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	return size_class(skb->len) == 2 ? TC_ACT_SHOT : TC_ACT_OK;
}

struct loop_ctx {
	unsigned int len;
	unsigned int odd;
};

static long count_odd(unsigned int i, void *data)
{
	struct loop_ctx *c = data;

	if ((c->len + i) & 1)
		c->odd++;
	return 0;
}

SEC("socket")
int socket_prog(struct __sk_buff *skb)
{
	struct loop_ctx c = { .len = skb->len, .odd = 0 };

	bpf_loop(4, count_odd, &c, 0);
	return c.odd > 1 ? skb->len : 0;
}

SEC("cgroup_skb/egress")
int cgroup_prog(struct __sk_buff *skb)
{
	return skb->len < 80 ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
