// Package goloaders holds what both Go loaders of the tests share: running the
// XDP parser on packet files with BPF_PROG_TEST_RUN.
package goloaders

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
)

var verdicts = []string{"aborted", "drop", "pass", "tx", "redirect"}

// RunPackets runs prog once on each packet file, in order, and prints each verdict.
func RunPackets(prog *ebpf.Program, paths []string) error {
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ret, err := prog.Run(&ebpf.RunOptions{Data: data, Repeat: 1})
		if err != nil {
			return fmt.Errorf("%s: BPF_PROG_TEST_RUN: %w", path, err)
		}
		verdict := fmt.Sprint(ret)
		if int(ret) < len(verdicts) {
			verdict = verdicts[ret]
		}
		fmt.Printf("%s: %s\n", path, verdict)
	}
	return nil
}
