// SPDX-License-Identifier: GPL-2.0
/*
 * The oracle corpus: small functions with much control flow that compile both for
 * the host and for BPF. tests/test_oracle.py builds this file into a host program
 * (host_driver.c, with clang's own profiling runtime) and into an XDP program
 * (bpf_driver.c, with bpfcov-cc), runs both on the same inputs and compares the
 * coverage of this file region by region and branch by branch: the host is the
 * reference the kernel must match, count for count.
 *
 * Rules, so that both targets compute the same thing and the verifier accepts it on
 * every LLVM: no headers, no libc; fixed-size unsigned arithmetic (no signed
 * overflow, no `char`, no division by variables); every loop bounded by a constant;
 * every read of the input through AT(), whose mask keeps the offset in the 32-byte
 * buffer the drivers pass (len is at most MAXLEN; no function reads past len). Loop
 * bounds are small where the verifier would otherwise walk too many states.
 * The drivers call corpus_dispatch(); the functions' order in its switch is the
 * order tests/test_oracle.py lists them in.
 */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define MAXLEN 32
#define NOINLINE __attribute__((noinline))
#define AT(b, i) ((b)[(u32)(i) & (MAXLEN - 1)])

/* Macros that expand to control flow: each use is an expansion region. */
#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			return -1; \
	} while (0)
#define CHECK_OR(x, err)            \
	do {                        \
		if (!(x))           \
			return (err); \
	} while (0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || (c) == '_')
#define IS_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\n')
#define ACCEPT_IF(cond, next) \
	if (cond) {           \
		state = (next); \
	} else

/* 0: sums the bytes up to the first 0xff, skipping zeros. */
static int sum_until(const u8 *b, u32 len)
{
	u32 sum = 0, i;

	for (i = 0; i < MAXLEN; i++) {
		u8 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if (c == 0)
			continue;
		if (c == 0xff)
			break;
		sum += c;
	}
	return (int)sum;
}

/*
 * 1: type-length-value records. Type 0 ends the list, type 1 is a one-byte pad,
 * type 2 adds its value bytes, any other type adds 1000. -1 when a record overruns.
 */
static int tlv_parse(const u8 *b, u32 len)
{
	u32 pos = 0, total = 0, n;

	for (n = 0; n < 6; n++) {
		u32 type, l, j;

		if (pos >= len)
			break;
		type = AT(b, pos);
		if (type == 0)
			break;
		if (type == 1) {
			pos++;
			continue;
		}
		CHECK(pos + 1 < len);
		l = AT(b, pos + 1);
		CHECK(pos + 2 + l <= len);
		if (type == 2) {
			for (j = 0; j < 4; j++) {
				if (j >= l)
					break;
				total += AT(b, pos + 2 + j);
			}
		} else {
			total += 1000;
		}
		pos += 2 + l;
	}
	return (int)total;
}

/* 2: one LEB128 varint of at most 5 bytes; -1 when cut short, -2 when too long. */
static int varint_decode(const u8 *b, u32 len)
{
	u32 value = 0, shift = 0, i;

	for (i = 0; i < 5; i++) {
		u32 c;

		CHECK(i < len);
		c = AT(b, i);
		value |= (c & 0x7f) << shift;
		if (!(c & 0x80))
			return (int)(value & 0x7fffffff);
		shift += 7;
	}
	return -2;
}

/* A varint at *pos: 0 and the value in *out, pos moved past it; -1 if malformed. */
static NOINLINE int read_varint(const u8 *b, u32 len, u32 *pos, u32 *out)
{
	u32 value = 0, i, p = *pos;

	for (i = 0; i < 4; i++) {
		u32 c;

		if (p >= len)
			return -1;
		c = AT(b, p);
		p++;
		value |= (c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			*pos = p;
			*out = value;
			return 0;
		}
	}
	return -1;
}

/* 3: the sum of a sequence of varints (a noinline helper with out-parameters). */
static int varint_sum(const u8 *b, u32 len)
{
	u32 pos = 0, sum = 0, v = 0, n;

	for (n = 0; n < 8; n++) {
		if (pos >= len)
			break;
		if (read_varint(b, len, &pos, &v) < 0)
			return -1;
		sum += v;
	}
	return (int)(sum & 0x7fffffff);
}

enum { TK_NONE, TK_NUM, TK_IDENT };

/* 4: a tiny tokenizer: numbers, identifiers and operators; -1 on anything else. */
static int tokenize(const u8 *b, u32 len)
{
	u32 i, state = TK_NONE, nums = 0, idents = 0, ops = 0;

	for (i = 0; i < MAXLEN; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if (IS_DIGIT(c)) {
			if (state == TK_NONE) {
				nums++;
				state = TK_NUM;
			}
		} else if (IS_ALPHA(c)) {
			if (state != TK_IDENT) {
				idents++;
				state = TK_IDENT;
			}
		} else if (IS_SPACE(c)) {
			state = TK_NONE;
		} else {
			switch (c) {
			case '+':
			case '-':
			case '*':
			case '/':
			case '=':
			case '(':
			case ')':
				ops++;
				state = TK_NONE;
				break;
			default:
				return -1;
			}
		}
	}
	return (int)(nums | idents << 8 | ops << 16);
}

#define F_SYN 1
#define F_ACK 2
#define F_FIN 4
#define F_RST 8
enum { S_CLOSED, S_SYN_SENT, S_SYN_RCVD, S_ESTABLISHED, S_FIN_WAIT, S_DONE };

/* 5: a TCP-like connection state machine driven by one flags byte per input byte. */
static int tcp_fsm(const u8 *b, u32 len)
{
	u32 state = S_CLOSED, i, bad = 0;

	for (i = 0; i < MAXLEN; i++) {
		u32 f;

		if (i >= len || state == S_DONE)
			break;
		f = AT(b, i) & 0xf;
		if (f & F_RST) {
			state = S_CLOSED;
			continue;
		}
		switch (state) {
		case S_CLOSED:
			if (f == F_SYN)
				state = S_SYN_SENT;
			else
				bad++;
			break;
		case S_SYN_SENT:
			if ((f & (F_SYN | F_ACK)) == (F_SYN | F_ACK))
				state = S_ESTABLISHED;
			else if (f == F_SYN)
				state = S_SYN_RCVD;
			else
				bad++;
			break;
		case S_SYN_RCVD:
			state = (f & F_ACK) ? S_ESTABLISHED : S_CLOSED;
			break;
		case S_ESTABLISHED:
			if (f & F_FIN)
				state = S_FIN_WAIT;
			break;
		case S_FIN_WAIT:
			if ((f & F_ACK) && !(f & F_SYN))
				state = S_DONE;
			break;
		}
	}
	return (int)(state | bad << 4);
}

/* 6: a switch whose cases fall through into each other. */
static int fallthrough(const u8 *b, u32 len)
{
	u32 acc = 0;

	CHECK(len >= 1);
	switch (AT(b, 0) & 7) {
	case 7:
		acc += 64;
		/* fall through */
	case 6:
		acc += 32;
		/* fall through */
	case 5:
		acc += 16;
		break;
	case 4:
		acc += 8;
		/* fall through */
	case 3:
	case 2:
		acc += 4;
		/* fall through */
	case 1:
		acc += 2;
		break;
	default:
		acc = 1;
	}
	return (int)acc;
}

/* 7: scores each byte through an if/else-if chain of compound conditions. */
static int classify(const u8 *b, u32 len)
{
	u32 i, score = 0;

	for (i = 0; i < MAXLEN; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			score += (c & 0x20) ? 1 : 2;
		else if (c >= '0' && c <= '9' && i > 0)
			score += 3;
		else if (!(c & 0x80) || (c == 0xff && i + 1 < len))
			score += 5;
		else
			score += 7;
	}
	return (int)score;
}

/* 8: short-circuit && and || nested in conditions and in a ?: */
static int short_circuit(const u8 *b, u32 len)
{
	u32 a, c, d, e;
	int r = 0;

	CHECK(len >= 4);
	a = AT(b, 0);
	c = AT(b, 1);
	d = AT(b, 2);
	e = AT(b, 3);
	if (((a & 1) && (c & 1)) || ((d & 1) && !(e & 1)))
		r |= 1;
	if (a > c && (c > d || d > e) && !(a == e))
		r |= 2;
	if (!(a & 2) || !(c & 2) || !(d & 2))
		r |= 4;
	r |= (a < 16 || (c >= 16 && d < 16)) ? 8 : 16;
	return r;
}

/* 9: nested ?: chains. */
static int ternary_chain(const u8 *b, u32 len)
{
	u32 x = len ? AT(b, 0) : 0;
	u32 y = len > 1 ? AT(b, 1) : 0;

	return x < 64 ? (x < 16 ? 1 : y > 128 ? 2 : 3) : x > 200 ? (y ? 4 : 5) : (x == y ? 6 : 7);
}

/* 10: a header check: early returns through CHECK and CHECK_OR. */
static int header_check(const u8 *b, u32 len)
{
	CHECK(len >= 4);
	CHECK(AT(b, 0) == 0xAB);
	CHECK(AT(b, 1) >= 1 && AT(b, 1) <= 3);
	CHECK_OR(!(AT(b, 2) & 0xF0), -2);
	if (AT(b, 1) == 3)
		CHECK_OR(AT(b, 3) == len, -3);
	return AT(b, 2) + AT(b, 1) * 16;
}

/* 11: the Internet checksum of the bytes, carries folded in a bounded loop. */
static int checksum16(const u8 *b, u32 len)
{
	u32 sum = 0, i;

	for (i = 0; i + 1 < MAXLEN; i += 2) {
		if (i >= len)
			break;
		if (i + 1 < len)
			sum += (u32)AT(b, i) << 8 | AT(b, i + 1);
		else
			sum += (u32)AT(b, i) << 8;
	}
	sum = ~sum;
	for (i = 0; i < 4; i++) {
		if (!(sum >> 16))
			break;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (int)(sum & 0xffff);
}

/* 12: the first pair of equal bytes among the first 8: nested loops, both broken. */
static int find_pair(const u8 *b, u32 len)
{
	u32 i, j;
	int found = -1;

	CHECK(len >= 2);
	for (i = 0; i < 8; i++) {
		if (i + 1 >= len)
			break;
		for (j = i + 1; j < 8; j++) {
			if (j >= len)
				break;
			if (AT(b, i) == AT(b, j)) {
				found = (int)(i * 8 + j);
				break;
			}
		}
		if (found >= 0)
			break;
	}
	return found;
}

/* 13: run-length pairs (count, value): the decoded length and value sum. */
static int rle_decode(const u8 *b, u32 len)
{
	u32 i, total = 0, sum = 0;

	for (i = 0; i + 1 < MAXLEN; i += 2) {
		u32 count, value;

		if (i + 1 >= len)
			break;
		count = AT(b, i);
		value = AT(b, i + 1);
		if (count == 0)
			continue;
		if (count == 0xff)
			break;
		total += count;
		sum += count * value;
	}
	CHECK_OR(!(len & 1), -(int)total);
	return (int)(total << 20 | (sum & 0xfffff));
}

/* The value of one hex digit, -1 if it is none: always inlined. */
static inline int hexval(u32 c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* 14: up to 7 hex digits. */
static int hex_parse(const u8 *b, u32 len)
{
	u32 v = 0, i;

	CHECK(len > 0 && len <= 7);
	for (i = 0; i < 7; i++) {
		int h;

		if (i >= len)
			break;
		h = hexval(AT(b, i));
		if (h < 0)
			return -2;
		v = v << 4 | (u32)h;
	}
	return (int)v;
}

/* 15: a dotted quad, "10.0.0.1". */
static int dotted_quad(const u8 *b, u32 len)
{
	u32 parts = 0, cur = 0, digits = 0, i, ip = 0;

	for (i = 0; i < 16; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if (c == '.') {
			CHECK(digits > 0 && parts < 3);
			ip = ip << 8 | cur;
			parts++;
			cur = 0;
			digits = 0;
		} else if (IS_DIGIT(c)) {
			cur = cur * 10 + (c - '0');
			CHECK(cur <= 255 && ++digits <= 3);
		} else {
			return -2;
		}
	}
	CHECK(parts == 3 && digits);
	return (int)((ip << 8 | cur) & 0x7fffffff);
}

/* 16: runs of set bits in the first 4 bytes, with a continue in an else-if. */
static int bit_runs(const u8 *b, u32 len)
{
	u32 x, i, runs = 0, ones = 0, prev = 0, skipped = 0;

	CHECK(len >= 4);
	x = AT(b, 0) | (u32)AT(b, 1) << 8 | (u32)AT(b, 2) << 16 | (u32)AT(b, 3) << 24;
	for (i = 0; i < 32; i++) {
		u32 bit = (x >> i) & 1;

		if (bit) {
			ones++;
			if (!prev)
				runs++;
		} else if (prev && (i & 1)) {
			prev = 0;
			skipped++;
			continue;
		}
		prev = bit;
	}
	return (int)(ones | runs << 8 | skipped << 16);
}

/* 17: spread of the bytes, through the MIN and MAX macros. */
static int min_max(const u8 *b, u32 len)
{
	u32 lo = 255, hi = 0, i;

	CHECK(len);
	for (i = 0; i < MAXLEN; i++) {
		if (i >= len)
			break;
		lo = MIN(lo, AT(b, i));
		hi = MAX(hi, AT(b, i));
	}
	return (int)(hi - lo) | (hi == lo ? 0x100 : 0);
}

/* v clamped to [lo, hi]: a helper kept out of line. */
static NOINLINE u32 clamp(u32 v, u32 lo, u32 hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

/* 18: the sum of the first 8 bytes, each clamped to a window that moves. */
static int clamp_sum(const u8 *b, u32 len)
{
	u32 i, s = 0;

	for (i = 0; i < 8; i++) {
		if (i >= len)
			break;
		s += clamp(AT(b, i), 16 * i, 16 * i + 40);
	}
	return (int)s;
}

/* 19: a do-while with a compound condition. */
static int do_while_scan(const u8 *b, u32 len)
{
	u32 i = 0, acc = 0;

	CHECK(len);
	do {
		acc = acc * 3 + AT(b, i);
		i++;
	} while (i < len && i < 12 && AT(b, i) != ';');
	return (int)((acc & 0xfffff) | i << 24);
}

/* 20: error handling with goto. */
static int goto_errors(const u8 *b, u32 len)
{
	int err = 0;
	u32 v = 0;

	if (len < 3) {
		err = -1;
		goto out;
	}
	if (AT(b, 0) != 'G') {
		err = -2;
		goto out;
	}
	v = AT(b, 1);
	if (v & 1)
		goto odd;
	v >>= 1;
	goto check;
odd:
	v = v * 3 + 1;
check:
	if (v > AT(b, 2)) {
		err = -3;
		goto out;
	}
	return (int)v;
out:
	return err * 64 - (int)len;
}

/* 21: a switch inside a switch, both with fallthrough. */
static int nested_switch(const u8 *b, u32 len)
{
	u32 r = 0;

	CHECK(len >= 2);
	switch (AT(b, 0) & 3) {
	case 0:
		switch (AT(b, 1) % 3) {
		case 0:
			r = 1;
			break;
		case 1:
			r = 2;
			/* fall through */
		default:
			r += 3;
		}
		break;
	case 1:
		r = AT(b, 1) > 100 ? 10 : 20;
		break;
	case 2:
		if (AT(b, 1) == 0)
			break;
		r = 30;
		/* fall through */
	default:
		r += 40;
	}
	return (int)r;
}

/* 22: && and || used as values, not conditions. */
static int bool_values(const u8 *b, u32 len)
{
	u32 a, c, d;
	int x, y, z;

	CHECK(len >= 3);
	a = AT(b, 0);
	c = AT(b, 1);
	d = AT(b, 2);
	x = a > c && c > d;
	y = a == 0 || (c & d) != 0;
	z = !(a & 4) && (d < 10 || c < 10);
	return x | y << 1 | z << 2;
}

/* 23: UTF-8 validation of up to 4 characters: how many, or what went wrong. */
static int utf8_check(const u8 *b, u32 len)
{
	u32 i = 0, n, chars = 0;

	for (n = 0; n < 4; n++) {
		u32 c, need, k;

		if (i >= len)
			break;
		c = AT(b, i);
		if (c < 0x80)
			need = 0;
		else if ((c & 0xe0) == 0xc0)
			need = 1;
		else if ((c & 0xf0) == 0xe0)
			need = 2;
		else if ((c & 0xf8) == 0xf0)
			need = 3;
		else
			return -1;
		CHECK_OR(i + need < len, -2);
		for (k = 1; k <= 3; k++) {
			if (k > need)
				break;
			if ((AT(b, i + k) & 0xc0) != 0x80)
				return -3;
		}
		i += need + 1;
		chars++;
	}
	return (int)chars;
}

/* 24: base64 text: whole quads, padding only at the end. */
static int b64_check(const u8 *b, u32 len)
{
	u32 i, pad = 0, vals = 0;

	CHECK((len & 3) == 0 && len);
	for (i = 0; i < MAXLEN; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if (c == '=') {
			CHECK_OR(i + 2 >= len, -2);
			pad++;
			continue;
		}
		CHECK_OR(!pad, -3);
		if ((IS_ALPHA(c) && c != '_') || IS_DIGIT(c) || c == '+' || c == '/')
			vals++;
		else
			return -4;
	}
	return (int)(vals | pad << 8);
}

/* 25: a 4-slot ring of 7-bit values packed in a u32: of 8 bytes, the top bit pushes. */
static int ring_sim(const u8 *b, u32 len)
{
	u32 ring = 0, head = 0, tail = 0, i, over = 0, under = 0, sum = 0;

	for (i = 0; i < 8; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		if (c & 0x80) {
			if (head - tail == 4) {
				over++;
				continue;
			}
			ring &= ~(0xffu << 8 * (head & 3));
			ring |= (c & 0x7f) << 8 * (head & 3);
			head++;
		} else {
			if (head == tail) {
				under++;
				continue;
			}
			sum += (ring >> 8 * (tail & 3)) & 0xff;
			tail++;
		}
	}
	return (int)(sum | over << 12 | under << 18);
}

/* 26: CRC-8 (polynomial 0x07) of the first 8 bytes; a ?: in the inner loop. */
static int crc8(const u8 *b, u32 len)
{
	u32 crc = 0, i, k;

	for (i = 0; i < 8; i++) {
		if (i >= len)
			break;
		crc ^= AT(b, i);
		for (k = 0; k < 8; k++)
			crc = (crc & 0x80) ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
	}
	return (int)crc;
}

/* 27: words separated by blanks: a while loop with a compound condition. */
static int word_count(const u8 *b, u32 len)
{
	u32 i = 0, words = 0, in_word = 0;

	while (i < len && i < MAXLEN) {
		if (IS_SPACE(AT(b, i)))
			in_word = 0;
		else if (!in_word) {
			in_word = 1;
			words++;
		}
		i++;
	}
	return (int)(words | in_word << 8);
}

/* 28: the regular expression a[bc]*d, as a state machine written with ACCEPT_IF. */
static int regex_match(const u8 *b, u32 len)
{
	u32 state = 0, i;

	for (i = 0; i < MAXLEN; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		switch (state) {
		case 0:
			ACCEPT_IF(c == 'a', 1) return -1;
			break;
		case 1:
			ACCEPT_IF(c == 'b' || c == 'c', 1) ACCEPT_IF(c == 'd', 2) return -2;
			break;
		default:
			return -3;
		}
	}
	return state == 2 ? (int)i : 0;
}

/* 29: the longest run of equal bytes among the first 12, and where it starts. */
static int longest_run(const u8 *b, u32 len)
{
	u32 i, best = 0, best_at = 0, run = 0, at = 0;

	CHECK(len);
	for (i = 0; i < 12; i++) {
		if (i >= len)
			break;
		if (i > 0 && AT(b, i) == AT(b, i - 1)) {
			run++;
		} else {
			run = 1;
			at = i;
		}
		if (run <= best)
			continue;
		best = run;
		best_at = at;
	}
	return (int)(best | best_at << 8);
}

/* 30: FNV-1a over the bytes up to a 0 byte, with early exits on the hash itself. */
static int fnv_exit(const u8 *b, u32 len)
{
	u32 h = 2166136261u, i;

	for (i = 0; i < MAXLEN; i++) {
		if (i >= len || !AT(b, i))
			break;
		h = (h ^ AT(b, i)) * 16777619u;
		if ((h & 0xff) == 0)
			return (int)(i + 1);
	}
	return (int)(h >> 1);
}

/* 31: a key=value line: the value's number if the key is known, else -1 or -2. */
static int key_value(const u8 *b, u32 len)
{
	u32 i, eq = MAXLEN, key = 0, value = 0;

	for (i = 0; i < MAXLEN; i++) {
		if (i >= len)
			break;
		if (AT(b, i) == '=') {
			eq = i;
			break;
		}
		key = key * 31 + AT(b, i);
	}
	CHECK(eq < len && eq > 0);
	for (i = eq + 1; i < MAXLEN; i++) {
		u32 c;

		if (i >= len)
			break;
		c = AT(b, i);
		CHECK_OR(IS_DIGIT(c), -2);
		value = value * 10 + c - '0';
	}
	switch (key) {
	case 'a':
	case 'b':
		return (int)(value & 0xffff);
	case 'a' * 31 + 'b':
		return (int)(value & 0xff) + 0x10000;
	default:
		return eq == 1 ? -3 : -4;
	}
}

/* The corpus function number `which` on the input (b, len); -100 if there is none. */
static int corpus_dispatch(u32 which, const u8 *b, u32 len)
{
	switch (which) {
	case 0: return sum_until(b, len);
	case 1: return tlv_parse(b, len);
	case 2: return varint_decode(b, len);
	case 3: return varint_sum(b, len);
	case 4: return tokenize(b, len);
	case 5: return tcp_fsm(b, len);
	case 6: return fallthrough(b, len);
	case 7: return classify(b, len);
	case 8: return short_circuit(b, len);
	case 9: return ternary_chain(b, len);
	case 10: return header_check(b, len);
	case 11: return checksum16(b, len);
	case 12: return find_pair(b, len);
	case 13: return rle_decode(b, len);
	case 14: return hex_parse(b, len);
	case 15: return dotted_quad(b, len);
	case 16: return bit_runs(b, len);
	case 17: return min_max(b, len);
	case 18: return clamp_sum(b, len);
	case 19: return do_while_scan(b, len);
	case 20: return goto_errors(b, len);
	case 21: return nested_switch(b, len);
	case 22: return bool_values(b, len);
	case 23: return utf8_check(b, len);
	case 24: return b64_check(b, len);
	case 25: return ring_sim(b, len);
	case 26: return crc8(b, len);
	case 27: return word_count(b, len);
	case 28: return regex_match(b, len);
	case 29: return longest_run(b, len);
	case 30: return fnv_exit(b, len);
	case 31: return key_value(b, len);
	default: return -100;
	}
}
