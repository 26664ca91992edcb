// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of the oracle: runs corpus functions on the packets of a file.
 *
 * The file holds records [u16 size, little-endian][u8 times][packet], the packets
 * bpf_driver.c receives, each run `times` times in file order. For each record one
 * line goes to stdout: the result as the kernel reports an XDP program's return
 * value, an unsigned 32-bit number.
 */
#include <stdio.h>

#include "corpus.c"

static int run(const u8 *packet, u32 size)
{
	u8 buf[MAXLEN];
	u32 len, i;

	if (size < 2 + MAXLEN)
		return -101;
	for (i = 0; i < MAXLEN; i++)
		buf[i] = packet[2 + i];
	len = packet[1];
	if (len > MAXLEN)
		len = MAXLEN;
	return corpus_dispatch(packet[0], buf, len);
}

int main(int argc, char **argv)
{
	u8 head[3], packet[1024];
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: %s RECORDS\n", argv[0]);
		return 2;
	}
	while (fread(head, 1, sizeof(head), f) == sizeof(head)) {
		u32 size = head[0] | (u32)head[1] << 8, times = head[2], t;
		int result = 0;

		if (size > sizeof(packet) || fread(packet, 1, size, f) != size) {
			fprintf(stderr, "truncated record\n");
			return 2;
		}
		for (t = 0; t < times; t++)
			result = run(packet, size);
		printf("%u\n", (unsigned)result);
	}
	return fclose(f) ? 2 : 0;
}
