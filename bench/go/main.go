// Command tlogbench measures golang.org/x/mod/sumdb/tlog on the same work as
// quorum-bench's Merkle comparison and prints the measurements as JSON on stdout, in
// the format of bench/src/measure.rs (MeasurementFile).
//
// Leaf i is i as 8 big-endian bytes; proof indices and old sizes come from SplitMix64
// with the same seeds as quorum-bench, so both measure the same proofs.
//
// Built by scripts/bench.sh against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogbench bench/go/main.go
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

const section = "merkle"
const implementation = "go x/mod/sumdb/tlog"

type measurement struct {
	Section        string    `json:"section"`
	Name           string    `json:"name"`
	Implementation string    `json:"implementation"`
	Size           uint64    `json:"size"`
	Unit           string    `json:"unit"`
	Samples        []float64 `json:"samples"`
}

type check struct {
	Implementation         string `json:"implementation"`
	Size                   uint64 `json:"size"`
	Root                   string `json:"root"`
	InclusionProofDigest   string `json:"inclusion_proof_digest"`
	ConsistencyProofDigest string `json:"consistency_proof_digest"`
}

type output struct {
	Measurements []measurement `json:"measurements"`
	Checks       []check       `json:"checks"`
}

func splitmix(state *uint64) uint64 {
	*state += 0x9E3779B97F4A7C15
	z := *state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// storage is an in-memory stored-hash array, read through tlog.HashReader.
type storage []tlog.Hash

func (s *storage) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		if index < 0 || index >= int64(len(*s)) {
			return nil, fmt.Errorf("stored hash %d not available", index)
		}
		out[i] = (*s)[index]
	}
	return out, nil
}

func leaf(i int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return b[:]
}

func digest(proof []tlog.Hash) string {
	h := sha256.New()
	for _, x := range proof {
		h.Write(x[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogbench: "+format+"\n", args...)
	os.Exit(1)
}

func rate(units int, start time.Time) float64 {
	return float64(units) / time.Since(start).Seconds()
}

func main() {
	sizesFlag := flag.String("sizes", "100000", "comma-separated tree sizes")
	reps := flag.Int("reps", 3, "repetitions")
	proofs := flag.Int("proofs", 2000, "proofs per repetition")
	flag.Parse()
	runtime.GOMAXPROCS(1) // single-threaded, like the Rust side

	var out output
	for _, text := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || n < 3 {
			fail("bad size %q", text)
		}
		run(n, *reps, *proofs, &out)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("%v", err)
	}
}

func run(n int64, reps, proofs int, out *output) {
	state := uint64(1)
	indices := make([]int64, proofs)
	for i := range indices {
		indices[i] = int64(splitmix(&state) % uint64(n))
	}
	state = 2
	olds := make([]int64, proofs)
	for i := range olds {
		olds[i] = int64(1 + splitmix(&state)%uint64(n-1))
	}
	leafHashes := make([]tlog.Hash, n)
	for i := range leafHashes {
		leafHashes[i] = tlog.RecordHash(leaf(int64(i)))
	}

	names := []string{"tree hashing", "tile building", "inclusion proof generation",
		"inclusion proof verification", "consistency proof generation", "consistency proof verification"}
	units := []string{"leaves/s", "MB/s", "proofs/s", "proofs/s", "proofs/s", "proofs/s"}
	samples := make([][]float64, len(names))

	var oldRoots []tlog.Hash
	for rep := 0; rep < reps; rep++ {
		fmt.Fprintf(os.Stderr, "  %s: %d leaves, repetition %d/%d\n", implementation, n, rep+1, reps)
		runtime.GC()
		start := time.Now()
		s := make(storage, 0, 2*n)
		for i := int64(0); i < n; i++ {
			hashes, err := tlog.StoredHashes(i, leaf(i), &s)
			if err != nil {
				fail("StoredHashes: %v", err)
			}
			s = append(s, hashes...)
		}
		root, err := tlog.TreeHash(n, &s)
		if err != nil {
			fail("TreeHash: %v", err)
		}
		samples[0] = append(samples[0], rate(int(n), start))

		if oldRoots == nil {
			oldRoots = make([]tlog.Hash, len(olds))
			for i, old := range olds {
				if oldRoots[i], err = tlog.TreeHash(old, &s); err != nil {
					fail("TreeHash: %v", err)
				}
			}
			inclusion, err := tlog.ProveRecord(n, n/3, &s)
			if err != nil {
				fail("ProveRecord: %v", err)
			}
			consistency, err := tlog.ProveTree(n, n/3+1, &s)
			if err != nil {
				fail("ProveTree: %v", err)
			}
			out.Checks = append(out.Checks, check{implementation, uint64(n), hex.EncodeToString(root[:]),
				digest(inclusion), digest(consistency)})
		}

		start = time.Now()
		bytes := 0
		for _, tile := range tlog.NewTiles(8, 0, n) {
			data, err := tlog.ReadTileData(tile, &s)
			if err != nil {
				fail("ReadTileData: %v", err)
			}
			bytes += len(data)
		}
		samples[1] = append(samples[1], float64(bytes)/time.Since(start).Seconds()/1e6)

		start = time.Now()
		recordProofs := make([]tlog.RecordProof, len(indices))
		for i, index := range indices {
			if recordProofs[i], err = tlog.ProveRecord(n, index, &s); err != nil {
				fail("ProveRecord: %v", err)
			}
		}
		samples[2] = append(samples[2], rate(len(indices), start))
		start = time.Now()
		for i, index := range indices {
			if err := tlog.CheckRecord(recordProofs[i], n, root, index, leafHashes[index]); err != nil {
				fail("CheckRecord(%d, %d): %v", n, index, err)
			}
		}
		samples[3] = append(samples[3], rate(len(indices), start))

		start = time.Now()
		treeProofs := make([]tlog.TreeProof, len(olds))
		for i, old := range olds {
			if treeProofs[i], err = tlog.ProveTree(n, old, &s); err != nil {
				fail("ProveTree: %v", err)
			}
		}
		samples[4] = append(samples[4], rate(len(olds), start))
		start = time.Now()
		for i, old := range olds {
			if err := tlog.CheckTree(treeProofs[i], n, root, old, oldRoots[i]); err != nil {
				fail("CheckTree(%d, %d): %v", n, old, err)
			}
		}
		samples[5] = append(samples[5], rate(len(olds), start))
	}
	for i := range names {
		out.Measurements = append(out.Measurements, measurement{section, names[i], implementation,
			uint64(n), units[i], samples[i]})
	}
}
