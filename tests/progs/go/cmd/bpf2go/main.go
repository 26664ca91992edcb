// Command bpf2go loads the XDP parser through the loadXdpObjects that bpf2go
// generated, and runs it on packet files in the kernel:
//
//	bpf2go PACKET.bin...
package main

import (
	"fmt"
	"os"

	"bpfcov.test/goloaders"
	"bpfcov.test/goloaders/xdp"
)

func main() {
	var objs xdp.XdpObjects
	if err := xdp.LoadXdpObjects(&objs, nil); err != nil {
		fmt.Fprintln(os.Stderr, "bpf2go: loadXdpObjects:", err)
		os.Exit(1)
	}
	defer objs.Close()
	if err := goloaders.RunPackets(objs.XdpParser, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bpf2go:", err)
		os.Exit(1)
	}
}
