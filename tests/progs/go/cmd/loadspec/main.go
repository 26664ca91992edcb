// Command loadspec loads a BPF object with cilium/ebpf's LoadCollectionSpec and
// NewCollection, as a Go program that ships its object as a file does, and runs
// its one program (the XDP parser, or the MC/DC example's access list) on
// packet files in the kernel:
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
	if len(coll.Programs) != 1 {
		return fmt.Errorf("%s has %d programs, not one", object, len(coll.Programs))
	}
	for _, prog := range coll.Programs {
		return goloaders.RunPackets(prog, packets)
	}
	return nil
}
