// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of the oracle: an XDP program that runs one corpus function.
 *
 * Packet: [function number][input length][input bytes...], padded to an Ethernet
 * header's 14 bytes. The input is copied into a zeroed 32-byte stack buffer (at
 * most 32 bytes of it, and no more than the packet holds), the function runs on
 * it, and its result is the program's return value. host_driver.c decodes the
 * same packets the same way.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "corpus.c"

SEC("xdp")
int oracle(struct xdp_md *ctx)
{
	const u8 *data = (const u8 *)(long)ctx->data;
	const u8 *end = (const u8 *)(long)ctx->data_end;
	u8 buf[MAXLEN];
	u32 len, i;

	__builtin_memset(buf, 0, sizeof(buf));
	if (data + 2 > end)
		return -101;
	len = data[1];
	if (len > MAXLEN)
		len = MAXLEN;
	for (i = 0; i < MAXLEN; i++) {
		if (i >= len || data + 2 + i + 1 > end)
			break;
		buf[i] = data[2 + i];
	}
	return corpus_dispatch(data[0], buf, i);
}

char LICENSE[] SEC("license") = "GPL";
