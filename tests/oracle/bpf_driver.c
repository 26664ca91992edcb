// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of the oracle: an XDP program that runs one corpus function.
 *
 * Packet: [function number][input length][32 input bytes], padded with zeros past
 * the input's length (34 bytes or more, so never shorter than an Ethernet header).
 * The 32 bytes are copied to a stack buffer, the function runs on (buffer,
 * min(length, 32)), and its result is the program's return value. host_driver.c
 * decodes the same packets the same way.
 *
 * The length reaches the corpus as a value the verifier knows only as a range
 * [0, 32]: a length it knew exactly would make it verify each function once per
 * possible length.
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
	u32 len;

	if (data + 2 + MAXLEN > end)
		return -101;
	__builtin_memcpy(buf, data + 2, MAXLEN);
	len = data[1];
	if (len > MAXLEN)
		len = MAXLEN;
	return corpus_dispatch(data[0], buf, len);
}

char LICENSE[] SEC("license") = "GPL";
