package quality_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
)

// BenchmarkEvaluate100k evaluates the default rules of an eight-item
// resource over 100,000 records, about 1% of them with a bad value.
func BenchmarkEvaluate100k(b *testing.B) {
	items := []quality.Item{
		{Name: "idNumber", Type: "idnumber", Required: true, Key: true},
		{Name: "name", Type: "string", Required: true},
		{Name: "employer", Type: "creditcode"},
		{Name: "division", Type: "division", Required: true},
		{Name: "phone", Type: "phone"},
		{Name: "email", Type: "email"},
		{Name: "birthDate", Type: "date"},
		{Name: "income", Type: "number"},
	}
	const n = 100_000
	employers := make([]string, 1000)
	for i := range employers {
		employers[i] = creditCode(b, i)
	}
	recs := make([]quality.Record, n)
	for i := range recs {
		id := citizenID(i)
		v := map[string]string{
			"idNumber":  id,
			"name":      "张三",
			"employer":  employers[i%len(employers)],
			"division":  "110105",
			"phone":     fmt.Sprintf("138%08d", i),
			"email":     fmt.Sprintf("user%d@example.gov.cn", i),
			"birthDate": id[6:10] + "-" + id[10:12] + "-" + id[12:14],
			"income":    fmt.Sprintf("%d.50", i%50000),
		}
		if i%100 == 0 {
			v["idNumber"] = corrupt(id)
			v["phone"] = "12345"
			v["name"] = ""
		}
		recs[i] = quality.Record{Key: id, Values: v, UpdatedAt: now.Add(-time.Duration(i) * time.Second)}
	}
	in := quality.Input{
		Items: items, Rules: quality.DefaultRules(items), Records: recs,
		UpdateCycle: "daily", Now: now,
	}
	var res quality.Result
	for b.Loop() {
		res = quality.Evaluate(in)
	}
	if res.Records != n || res.Failed != 3*n/100 {
		b.Fatalf("records %d failed %d, want %d, %d", res.Records, res.Failed, n, 3*n/100)
	}
}
