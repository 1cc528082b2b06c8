// Command traindict trains the value codec's dictionaries on a synthetic
// ledger: ledgerfill writes a history of the sample town into an embedded
// store in a temporary folder, and every case (with its figure marks) and
// every event of it become the samples. Never run it on a town's real
// data: a dictionary is committed, and what it is trained on is in it.
//
//	go run ./store/valuecodec/traindict -cases 5000 -out store/valuecodec
//
// from the repository root writes case2.dict (a case with its figure
// marks; codec.go says why events have none of their own). A
// dictionary is never changed once values are written with it; a new one
// gets a new tag and file (codec.go).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/store/embedded"
	"gridbot/store/valuecodec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "traindict:", err)
		os.Exit(1)
	}
}

func run() error {
	cases := flag.Int("cases", 5000, "cases of the synthetic ledger")
	out := flag.String("out", "store/valuecodec", "folder the dictionaries are written to")
	size := flag.Int("size", 8<<10, "the largest dictionary, in bytes")
	flag.Parse()
	ctx := context.Background()
	cfg, err := configs.Load("", nil)
	if err != nil {
		return err
	}
	town, err := configs.LoadTown("configs/town.yaml", "configs/categories.yaml")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "traindict")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := embedded.Open(filepath.Join(dir, "ledger.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		return err
	}
	defer st.Close()
	ledger := &core.Ledger{Store: st, Town: town, Rules: cfg.Rules()}
	if _, err := ledgerfill.Fill(ctx, ledger, ledgerfill.Options{Cases: *cases, Years: 3, Seed: 7}); err != nil {
		return err
	}
	all, err := st.Cases(ctx, core.CaseQuery{Limit: *cases + 1})
	if err != nil {
		return err
	}
	rule := core.FigureRule{Town: town}
	var samples [][]byte
	for i := range all {
		c := &all[i]
		evs, err := st.Events(ctx, c.Number)
		if err != nil {
			return err
		}
		marks, _ := rule.Mark(nil, c, evs)
		cj, err := json.Marshal(c)
		if err != nil {
			return err
		}
		mj, err := json.Marshal(marks)
		if err != nil {
			return err
		}
		samples = append(samples, append(append(cj, '\n'), mj...))
	}
	raw, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: *size, HashBytes: 6,
		ZstdDictID: uint32(valuecodec.CaseWithMarks2.Tag()), ZstdLevel: zstd.SpeedFastest})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "case2.dict"), raw, 0o644); err != nil {
		return err
	}
	fmt.Printf("case2.dict: %d bytes from %d cases\n", len(raw), len(samples))
	return nil
}
