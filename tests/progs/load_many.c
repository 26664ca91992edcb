// SPDX-License-Identifier: GPL-2.0
/*
 * load_many OBJ...: loads every object given into this one process (libbpf,
 * no skeleton) and runs each XDP program of the i-th object (i + 1) times on a
 * 64-byte packet; programs of other types are only loaded.
 */
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *objs[16] = {0};
	char packet[64] = {0};
	int i, err = 0;

	packet[12] = 0x86; /* an IPv6 ethertype: the parser passes it */
	packet[13] = 0xdd;
	for (i = 1; i < argc && i < 16 && !err; i++) {
		struct bpf_program *prog;

		objs[i] = bpf_object__open_file(argv[i], NULL);
		if (!objs[i] || bpf_object__load(objs[i])) {
			fprintf(stderr, "load_many: cannot load %s\n", argv[i]);
			return 1;
		}
		bpf_object__for_each_program(prog, objs[i]) {
			LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet,
				    .data_size_in = sizeof(packet), .repeat = i);

			if (bpf_program__type(prog) == BPF_PROG_TYPE_XDP &&
			    bpf_prog_test_run_opts(bpf_program__fd(prog), &run))
				err = 1;
		}
	}
	for (i = 1; i < 16; i++)
		bpf_object__close(objs[i]);
	return err;
}
