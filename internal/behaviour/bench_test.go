package behaviour

import (
	"runtime"
	"testing"
)

// BenchmarkAnalyze feeds b.N generated transactions to an Analyzer and
// computes the report; generating them is not timed. For the 10 M figure:
//
//	go test -run '^$' -bench Analyze -benchtime 10000000x ./internal/behaviour/
//
// ns/op is per transaction; s/10M projects it to 10 million transactions;
// heap-MB is the memory the analyzer holds afterwards.
func BenchmarkAnalyze(b *testing.B) {
	const chunk = 1 << 16
	buf := make([]Transaction, 0, chunk)
	var a Analyzer
	b.ReportAllocs()
	b.StopTimer()
	feed := func() {
		b.StartTimer()
		for _, t := range buf {
			a.Add(t)
		}
		b.StopTimer()
		buf = buf[:0]
	}
	Generate(1, b.N, func(t Transaction) {
		if buf = append(buf, t); len(buf) == chunk {
			feed()
		}
	})
	feed()
	b.StartTimer()
	r := a.Report()
	b.StopTimer()

	if r.Totals.Transactions != int64(b.N) {
		b.Fatalf("%d transactions analysed, want %d", r.Totals.Transactions, b.N)
	}
	buf = nil
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(&a)
	b.ReportMetric(b.Elapsed().Seconds()*1e7/float64(b.N), "s/10M")
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
}

// BenchmarkGenerate measures the generator alone, per transaction.
func BenchmarkGenerate(b *testing.B) {
	n := 0
	Generate(1, b.N, func(Transaction) { n++ })
}
