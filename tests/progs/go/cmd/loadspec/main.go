// Command loadspec loads a BPF object with cilium/ebpf's LoadCollectionSpec and
// NewCollection, as a Go program that ships its object as a file does, and runs
// the XDP parser on packet files in the kernel:
//
//	loadspec OBJECT PACKET.bin...
package main

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"

	"bpfcov.test/goloaders"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadspec OBJECT PACKET.bin...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadspec:", err)
		os.Exit(1)
	}
}

func run(object string, packets []string) error {
	spec, err := ebpf.LoadCollectionSpec(object)
	if err != nil {
		return fmt.Errorf("LoadCollectionSpec: %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return fmt.Errorf("NewCollection: %w", err)
	}
	defer coll.Close()
	prog := coll.Programs["xdp_parser"]
	if prog == nil {
		return fmt.Errorf("%s has no program xdp_parser", object)
	}
	return goloaders.RunPackets(prog, packets)
}
