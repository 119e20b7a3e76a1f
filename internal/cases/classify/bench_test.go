package classify

import (
	"slices"
	"testing"
)

func BenchmarkPredict(b *testing.B) {
	m := Train(SeedExamples())
	ho := HeldOut()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Predict(ho[i%len(ho)].Text)
		i++
	}
}

func BenchmarkTrain(b *testing.B) {
	seed := SeedExamples()
	b.ReportAllocs()
	for b.Loop() {
		Train(seed)
	}
}

// BenchmarkTrain3000 trains on about 3,000 examples: the seed and held-out
// sets plus the seed set with every text reversed (new n-grams, same labels).
func BenchmarkTrain3000(b *testing.B) {
	ex := append(SeedExamples(), HeldOut()...)
	for _, e := range SeedExamples() {
		r := []rune(e.Text)
		slices.Reverse(r)
		ex = append(ex, Example{string(r), e.Label})
	}
	b.ReportMetric(float64(len(ex)), "examples")
	b.ReportAllocs()
	for b.Loop() {
		Train(ex)
	}
}

// BenchmarkHeldOut trains on the seed set and reports held-out accuracy and
// confidence figures as custom metrics (the timing is of one full pass).
func BenchmarkHeldOut(b *testing.B) {
	m := Train(SeedExamples())
	ho := HeldOut()
	var r evalResult
	for b.Loop() {
		r = evaluate(m, ho, dispatchThreshold)
	}
	b.ReportMetric(frac(r.top1, r.n), "top1")
	b.ReportMetric(frac(r.top3, r.n), "top3")
	b.ReportMetric(r.confRight, "conf_right")
	b.ReportMetric(r.confWrong, "conf_wrong")
	b.ReportMetric(frac(r.above, r.n), "share>=0.6")
	b.ReportMetric(frac(r.aboveRight, r.above), "top1>=0.6")
}
