package sealed

import "testing"

func BenchmarkOpen(b *testing.B) {
	k := Generate()
	s := k.Seal("360102199001011234")
	for b.Loop() {
		if _, err := k.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	k := Generate()
	for b.Loop() {
		k.Seal("360102199001011234")
	}
}

func BenchmarkIndex(b *testing.B) {
	k := Generate()
	for b.Loop() {
		k.Index("id_card:360102199001011234")
	}
}
