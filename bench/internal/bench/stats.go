// Package bench measures the migrator against its peers and against live cart traffic, for
// `make bench`. It writes bench/results/latest.json and latest.md.
package bench

import (
	"math"
	"sort"
	"time"
)

// Stats summarise repeated timings in milliseconds.
type Stats struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	P99    float64 `json:"p99,omitempty"`
	N      int     `json:"n"`
}

// Summarise computes the statistics of durations.
func Summarise(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	ms := make([]float64, len(d))
	for i, v := range d {
		ms[i] = float64(v.Microseconds()) / 1000
	}
	sort.Float64s(ms)
	return Stats{Median: Round(percentile(ms, 50)), Min: Round(ms[0]), Max: Round(ms[len(ms)-1]), P99: Round(percentile(ms, 99)), N: len(ms)}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}

// Round keeps two decimals, as every figure in the report has.
func Round(v float64) float64 { return math.Round(v*100) / 100 }
