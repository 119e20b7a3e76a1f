// Package classify routes free-text city-management case descriptions
// (一网统管 smart dispatch) to a case category code.
//
// The model is a multinomial logistic regression over character 1–3 grams
// of the normalised text (a naive Bayes over the same features was measured
// too and was clearly worse, see docs/classifier.md). It uses only the
// standard library and is immutable after Train, so Predict is safe for
// concurrent use.
package classify

import (
	"math"
	"sort"
	"sync"
	"unicode"
)

// Example is one labelled case description.
type Example struct {
	Text, Label string
}

// Scored is one candidate label with its confidence in [0, 1].
type Scored struct {
	Label      string
	Confidence float64
}

const (
	// epochs, learningRate, pruneBelow and minDocFreq are the training settings,
	// chosen by 5-fold cross-validation on the training set only (see
	// TestCrossValidation); the held-out set played no part.
	epochs       = 10
	learningRate = 3.0
	pruneBelow   = 0.05
	minDocFreq   = 2
	// temperature divides the scores before the softmax. After ten
	// epochs the raw model is under-confident; 0.5 brings the mean top
	// confidence in cross-validation close to the cross-validated accuracy.
	// TestCrossValidation logs, per temperature, the share of texts at or
	// above the dispatch threshold and the accuracy among them.
	temperature = 0.5
	// topK is how many candidates Predict returns.
	topK = 3
)

// posting is the weight of one n-gram for one label.
type posting struct {
	label  int32
	weight float32
}

// Model is a trained classifier. The zero value and nil are empty models.
type Model struct {
	labels  []string
	bias    []float64 // per label
	vocab   map[uint64]int32
	offsets []int32 // postings of feature f are entries[offsets[f]:offsets[f+1]]
	entries []posting
	temp    float64   // softmax temperature, see temperature
	pool    sync.Pool // *scratch
}

type scratch struct {
	runes  []rune
	scores []float64
}

// Train builds a model from examples: a multinomial logistic regression
// (softmax) over the text's character 1–3 grams, each weighted 1/√n for a
// text of n grams, fitted by stochastic gradient descent for a fixed number
// of epochs in a fixed pseudo-random order. Examples with an empty label
// are ignored, as are texts without any letter or digit. The result depends
// only on the examples and their order, never on map iteration order.
func Train(examples []Example) *Model {
	return train(examples, trainConfig{epochs: epochs, eta: learningRate, prune: pruneBelow, minDF: minDocFreq})
}

type trainConfig struct {
	epochs int
	eta    float64 // initial learning rate, divided by (1+epoch)
	prune  float32 // weights with a smaller magnitude are dropped from the model
	minDF  int32   // n-grams in fewer training texts are not features
}

func train(examples []Example, cfg trainConfig) *Model {
	m := &Model{vocab: make(map[uint64]int32), temp: temperature}
	labelIdx := make(map[string]int)
	for _, ex := range examples {
		if ex.Label == "" {
			continue
		}
		if _, ok := labelIdx[ex.Label]; !ok {
			labelIdx[ex.Label] = 0
			m.labels = append(m.labels, ex.Label)
		}
	}
	sort.Strings(m.labels)
	for i, l := range m.labels {
		labelIdx[l] = i
	}
	nl := len(m.labels)

	// Document frequency of every n-gram; n-grams of a single training
	// text hardly generalise and are left out (unless the text has no
	// other), which also cuts the training time.
	df := make(map[uint64]int32)
	last := make(map[uint64]int32)
	var runes []rune
	for i, ex := range examples {
		if ex.Label == "" {
			continue
		}
		runes = normalize(runes[:0], ex.Text)
		eachGram(runes, func(key uint64) {
			if l, ok := last[key]; !ok || l != int32(i) {
				last[key] = int32(i)
				df[key]++
			}
		})
	}
	clear(last)

	// Feature ids of every n-gram occurrence, per document.
	type doc struct {
		start, end int32 // into feats
		n          int32 // all n-grams of the text, kept or not
		label      int32
	}
	var docs []doc
	var feats []int32
	for _, ex := range examples {
		if ex.Label == "" {
			continue
		}
		start := int32(len(feats))
		runes = normalize(runes[:0], ex.Text)
		n, rare := int32(0), 0
		eachGram(runes, func(key uint64) {
			n++
			if df[key] < cfg.minDF {
				rare++
			}
		})
		keepAll := int(n) == rare // never leave a text without features
		eachGram(runes, func(key uint64) {
			if df[key] < cfg.minDF && !keepAll {
				return
			}
			f, ok := m.vocab[key]
			if !ok {
				f = int32(len(m.vocab))
				m.vocab[key] = f
			}
			feats = append(feats, f)
		})
		if int32(len(feats)) > start {
			docs = append(docs, doc{start, int32(len(feats)), n, int32(labelIdx[ex.Label])})
		}
	}
	if len(docs) == 0 {
		return &Model{}
	}

	w := make([]float32, len(m.vocab)*nl) // w[f*nl+c]
	bias := make([]float64, nl)
	z := make([]float32, nl)
	g := make([]float32, nl)
	active := make([]int, 0, nl)
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	rng := uint64(0x5eed)
	for ep := range cfg.epochs {
		// Fisher–Yates with a fixed linear congruential generator.
		for i := len(order) - 1; i > 0; i-- {
			rng = rng*6364136223846793005 + 1442695040888963407
			j := int((rng >> 33) % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		lr := cfg.eta / float64(1+ep)
		for _, di := range order {
			d := docs[di]
			fs := feats[d.start:d.end]
			x := float32(1 / math.Sqrt(float64(d.n)))
			clear(z)
			for _, f := range fs {
				row := w[int(f)*nl:][:len(z)]
				for c := range z {
					z[c] += row[c]
				}
			}
			best := float32(math.Inf(-1))
			for c := range z {
				z[c] = z[c]*x + float32(bias[c])
				best = max(best, z[c])
			}
			var sum float64
			for c := range z {
				if d := z[c] - best; d > -30 {
					e := math.Exp(float64(d))
					z[c] = float32(e)
					sum += e
				} else {
					z[c] = 0
				}
			}
			// Gradient of the log loss; classes whose gradient is
			// negligible are skipped, which makes later epochs cheap.
			active = active[:0]
			for c := range z {
				gc := float32(float64(z[c]) / sum)
				if int32(c) == d.label {
					gc--
				}
				bias[c] -= lr * float64(gc)
				if gc > 1e-4 || gc < -1e-4 {
					g[c] = float32(lr) * gc * x
					active = append(active, c)
				}
			}
			for _, f := range fs {
				row := w[int(f)*nl:][:nl]
				for _, c := range active {
					row[c] -= g[c]
				}
			}
		}
	}

	m.bias = bias
	m.offsets = make([]int32, len(m.vocab)+1)
	for f := range len(m.vocab) {
		for c, v := range w[f*nl : f*nl+nl] {
			if v >= cfg.prune || v <= -cfg.prune {
				m.entries = append(m.entries, posting{int32(c), v})
			}
		}
		m.offsets[f+1] = int32(len(m.entries))
	}
	return m
}

// Labels returns the model's labels in sorted order.
func (m *Model) Labels() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.labels...)
}

// Predict returns up to three labels, best first, with confidences that sum
// to at most 1 (they are the top of a distribution over all labels). It
// returns nil for an empty model or a text without any known n-gram.
func (m *Model) Predict(text string) []Scored {
	if m == nil || len(m.labels) == 0 || text == "" {
		return nil
	}
	s, _ := m.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{scores: make([]float64, len(m.labels))}
	}
	defer m.pool.Put(s)
	s.runes = normalize(s.runes[:0], text)
	scores := s.scores
	clear(scores)
	known, n := 0, 0
	eachGram(s.runes, func(key uint64) {
		n++
		f, ok := m.vocab[key]
		if !ok {
			return
		}
		known++
		for _, e := range m.entries[m.offsets[f]:m.offsets[f+1]] {
			scores[e.label] += float64(e.weight)
		}
	})
	if known == 0 {
		return nil
	}
	x := 1 / math.Sqrt(float64(n))
	best := math.Inf(-1)
	for c := range scores {
		scores[c] = (scores[c]*x + m.bias[c]) / m.temp
		best = max(best, scores[c])
	}
	var sum float64
	for c := range scores {
		scores[c] = math.Exp(scores[c] - best)
		sum += scores[c]
	}
	k := min(topK, len(scores))
	out := make([]Scored, 0, k)
	for range k {
		bi := -1
		for c, p := range scores {
			if p >= 0 && (bi < 0 || p > scores[bi]) {
				bi = c
			}
		}
		out = append(out, Scored{m.labels[bi], scores[bi] / sum})
		scores[bi] = -1 // taken; ties resolve to the earlier (sorted) label
	}
	return out
}

// normalize appends the normalised runes of text to dst: full-width ASCII
// and the ideographic space are folded to ASCII, letters are lower-cased and
// every digit becomes '0' (house numbers and times carry no category
// information). Anything that is not a letter or digit (punctuation,
// whitespace, symbols) ends the current segment: a single 0 rune is
// appended as a boundary, so n-grams never span it.
func normalize(dst []rune, text string) []rune {
	for _, r := range text {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		switch {
		case r >= '0' && r <= '9', r < 0x80 && unicode.IsDigit(r):
			r = '0'
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r >= 'a' && r <= 'z':
		case r < 0x80:
			r = 0
		case unicode.IsLetter(r):
			r = unicode.ToLower(r)
		case unicode.IsDigit(r):
			r = '0'
		case unicode.IsNumber(r): // ①, Ⅱ, ...
		default:
			r = 0
		}
		if r == 0 && (len(dst) == 0 || dst[len(dst)-1] == 0) {
			continue
		}
		dst = append(dst, r)
	}
	return dst
}

// eachGram calls fn with the key of every 1-, 2- and 3-gram of the
// normalised runes that does not span a boundary. Keys pack up to three
// 21-bit runes; since no rune of a gram is 0, keys of different lengths
// never collide.
func eachGram(rs []rune, fn func(uint64)) {
	for i, r := range rs {
		if r == 0 {
			continue
		}
		k := uint64(r)
		fn(k)
		if i+1 < len(rs) && rs[i+1] != 0 {
			k = k<<21 | uint64(rs[i+1])
			fn(k)
			if i+2 < len(rs) && rs[i+2] != 0 {
				fn(k<<21 | uint64(rs[i+2]))
			}
		}
	}
}
