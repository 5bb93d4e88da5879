package main

import (
	"bytes"
	"strings"
	"testing"
)

func sampleWatchReport() WatchReport {
	writes := func(rate, rps, cpu float64) Result {
		return Result{Scenario: "watch-writes", Protocol: "connect-proto", Rate: rate, Throughput: rps,
			LatencyMS: Percentiles{P50: 2, P99: 9}, ServerCPUPerCallUS: cpu, DatabaseCPUPerCallUS: 1000, ClientCPUPerCallUS: 300}
	}
	delivery := &DeliveryStats{Expected: 5000, Delivered: 5000, FromAnswerMS: Percentiles{P50: 3, P99: 40}, FromSendMS: Percentiles{P99: 45}}
	return WatchReport{
		Protocol: "connect-proto", Users: 2000, StreamsPerConnection: 200,
		Baseline: ServerState{RSSMiB: 40, Goroutines: 80, LoadAvg: "3.00 2.00 1.00"},
		Phases: []WatchPhase{
			{Watches: 1000, Connections: 5, Idle: ServerState{RSSMiB: 70, Goroutines: 1090},
				Deliveries: []WriteRun{{Watches: 1000, Writes: writes(500, 499, 900), Delivery: delivery, End: ServerState{LoadAvg: "4.00 3.00 2.00"}}}},
			{Watches: 10_000, Connections: 50, Idle: ServerState{RSSMiB: 250, Goroutines: 10090}, OpenErrors: map[string]int64{"resource_exhausted": 2}},
		},
		Throughput: []WriteRun{
			{Watches: 0, Round: 1, Writes: writes(0, 1000, 600)},
			{Watches: 1000, Round: 1, Writes: writes(0, 950, 700), Delivery: delivery},
			{Watches: 1000, Round: 2, Writes: writes(0, 850, 700), Delivery: delivery},
			{Watches: 0, Round: 2, Writes: writes(0, 1000, 600)},
		},
	}
}

func TestWatchMarkdown(t *testing.T) {
	t.Parallel()
	r := sampleWatchReport()
	for i := range r.Phases {
		p := &r.Phases[i]
		p.AfterGC = p.Idle
		p.AfterGC.RSSMiB -= 10
		p.IdlePerWatch, p.AfterGCPerWatch = perWatch(p.Idle, r.Baseline, p.Watches), perWatch(p.AfterGC, r.Baseline, p.Watches)
	}
	var buf bytes.Buffer
	r.markdown(&buf)
	md := buf.String()
	for _, want := range []string{
		"| 0 | – | – | after a collection | 40 | – | 80 |",
		"| 1000 | 5 | 0.0 | a few seconds after opening | 70 | 30.7 | 1090 | 1.01 |",
		"| 1000 | 5 | 0.0 | after a collection | 60 | 20.5 | 1090 | 1.01 |",
		"| 10000 | 50 | 0.0 | a few seconds after opening | 250 | 21.5 | 10090 | 1.00 | 0.0 | 0.0 | 0.0 | 0.0 | 2 |",
		"| 1000 | 499 (500) | 9.00 | 0 | 5000 / 5000 | 0 | 0 | 3.00 |",
		"| 1 | 0 | 1000 |",
		"| 10,000 idle watches: server RSS < 200 MiB | 250 MiB a few seconds after opening, 240 MiB after a collection (20.5 KiB per watch); 2 failed to open | **no** |",
		"| p99 delivery < 100 ms at 500 writes/s with 1,000 watches | p99 40.00 ms from the answer (45.00 ms from the send) at 499 writes/s; 0 missing, 0 writes failed | yes |",
		// The medians: 900/s with, 1000/s without; judged by the CPU.
		"| write throughput with 1,000 watches within 10% of without | writes/s, median of 2 rounds: 900 vs 1000 (-10.0%); server + PostgreSQL CPU per write 1700 vs 1600 µs (+6.2%), so -5.9% writes/s where CPU is the limit | yes |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestPerWatch(t *testing.T) {
	t.Parallel()
	base := ServerState{RSSMiB: 40, Goroutines: 80, HeapInuseMiB: 10, StackInuseMiB: 1}
	got := perWatch(ServerState{RSSMiB: 140, Goroutines: 1080, HeapInuseMiB: 20, StackInuseMiB: 17}, base, 1000)
	mustNear(t, "RSS KiB", got.RSSKiB, 102.4)
	mustNear(t, "goroutines", got.Goroutines, 1)
	mustNear(t, "heap KiB", got.HeapKiB, 10.24)
	mustNear(t, "stack KiB", got.StackKiB, 16.384)
	if got := perWatch(ServerState{Goroutines: 1080}, ServerState{}, 1000); got != (PerWatch{}) {
		t.Errorf("perWatch without a baseline = %+v", got)
	}
}

func TestWatchThroughputTargetFollowsTheCPU(t *testing.T) {
	t.Parallel()
	r := sampleWatchReport()
	for i := range r.Throughput {
		if r.Throughput[i].Watches > 0 {
			r.Throughput[i].Writes.Throughput = 1000        // no slower ...
			r.Throughput[i].Writes.ServerCPUPerCallUS = 900 // ... but 1,900 µs against 1,600
		}
	}
	var buf bytes.Buffer
	r.targets(&buf)
	if want := "(+18.8%), so -15.8% writes/s where CPU is the limit | **no** |"; !strings.Contains(buf.String(), want) {
		t.Errorf("targets lack %q:\n%s", want, buf.String())
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	t.Parallel()
	if got, err := parseCounts("1000, 10_000"); err != nil || len(got) != 2 || got[1] != 10000 {
		t.Errorf("parseCounts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "ten"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("parseCounts(%q) succeeded", bad)
		}
	}
}
