// Package xdp is the XDP parser as bpf2go embeds it. `go generate` compiles
// xdp_parser.bpf.c (a link to examples/xdp/) with bpfcov-cc for bpfel and bpfeb (the LLVM from
// BPFCOV_LLVM, the strip tool from BPF2GO_STRIP, extra flags from BPF2GO_CFLAGS) and
// writes xdp_bpfel.{o,obj,go} and xdp_bpfeb.{o,obj,go} here.
package xdp

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc bpfcov-cc -target bpfel,bpfeb Xdp xdp_parser.bpf.c
