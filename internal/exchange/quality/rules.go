package quality

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// DefaultRules derives the standard rules from the items: completeness for
// each required item, validity for each item with a type other than
// "string", uniqueness for the key item, and one timeliness rule, in that
// order. IDs are "<kind>:<item>", and "timeliness".
func DefaultRules(items []Item) []Rule {
	var rules []Rule
	add := func(kind string, keep func(Item) bool) {
		for _, it := range items {
			if keep(it) {
				rules = append(rules, Rule{ID: kind + ":" + it.Name, Kind: kind, Item: it.Name})
			}
		}
	}
	add(Completeness, func(it Item) bool { return it.Required })
	add(Validity, func(it Item) bool { return it.Type != "string" })
	add(Uniqueness, func(it Item) bool { return it.Key })
	return append(rules, Rule{ID: Timeliness, Kind: Timeliness})
}

// ValidateRules checks rules against the items before they are stored: ids
// present and unique, a known kind, an existing item where the kind needs
// one (and none for timeliness), a known item type for validity, a param
// that parses, a reference name for consistency, and a weight not below 0.
// The error is an *errs.Error naming the first bad field, e.g.
// "rules[2].item" with rule "exists".
func ValidateRules(rules []Rule, items []Item) error {
	byName := indexItems(items)
	ids := make(map[string]int, len(rules))
	for i, r := range rules {
		field := func(name string) string { return "rules[" + strconv.Itoa(i) + "]." + name }
		if strings.TrimSpace(r.ID) == "" {
			return errs.Invalid(field("id"), "required", "a rule needs an id", "规则须有标识")
		}
		if j, dup := ids[r.ID]; dup {
			return errs.Invalid(field("id"), "unique",
				fmt.Sprintf("id %q is already used by rules[%d]", r.ID, j),
				fmt.Sprintf("标识 %q 已被 rules[%d] 使用", r.ID, j))
		}
		ids[r.ID] = i
		if _, err := compile(r, byName); err != nil {
			return errs.Invalid(field(err.field), err.rule, err.en, err.zh)
		}
	}
	return nil
}

// ruleError says what is wrong with a rule: the rule's field, the broken
// constraint and why, for ValidateRules and for rules Evaluate cannot run.
type ruleError struct{ field, rule, en, zh string }

// Internal kinds, so the per-record loop switches on an int.
const (
	kindCompleteness = iota + 1
	kindValidity
	kindUniqueness
	kindConsistency
)

// check is a rule compiled for one evaluation: its param parsed and its
// regular expression compiled once, not per record.
type check struct {
	kind     int
	item     string
	typ      string
	weight   float64
	valid    typeCheck           // validity: nil for plain strings
	allows   func(v string) bool // validity: the param, or nil
	narrowed problem             // validity: what a value the param rejects gets
	mismatch problem             // consistency
	ref      Reference           // consistency
	counts   map[string]int      // uniqueness: records per canonical value
	result   *RuleResult         // where the counts go
}

// compile checks a rule against the items and prepares it to run.
// Timeliness rules come back with nothing to run per record.
func compile(r Rule, items map[string]Item) (*check, *ruleError) {
	c := &check{item: r.Item, weight: 1}
	switch r.Kind {
	case Timeliness:
		if r.Item != "" {
			return nil, &ruleError{"item", "empty", "a timeliness rule is about the whole resource and names no item", "及时性规则针对整个资源，不应指定数据项"}
		}
		if r.Param != "" {
			return nil, paramNotUsed(r.Kind)
		}
		return c, weight(c, r.Weight)
	case Completeness:
		c.kind = kindCompleteness
	case Validity:
		c.kind = kindValidity
	case Uniqueness:
		c.kind = kindUniqueness
	case Consistency:
		c.kind = kindConsistency
	default:
		return nil, &ruleError{"kind", "enum",
			"kind must be completeness, validity, uniqueness, timeliness or consistency",
			"规则类型应为 completeness、validity、uniqueness、timeliness 或 consistency"}
	}
	if r.Item == "" {
		return nil, &ruleError{"item", "required", "a " + r.Kind + " rule needs an item", "此类规则须指定数据项"}
	}
	it, ok := items[r.Item]
	if !ok {
		return nil, &ruleError{"item", "exists",
			fmt.Sprintf("the resource has no item %q", r.Item), fmt.Sprintf("资源没有数据项 %q", r.Item)}
	}
	c.typ = it.Type
	switch c.kind {
	case kindCompleteness, kindUniqueness:
		if r.Param != "" {
			return nil, paramNotUsed(r.Kind)
		}
	case kindConsistency:
		if strings.TrimSpace(r.Param) == "" {
			return nil, &ruleError{"param", "required", "name the reference source to compare with", "须指定比对的参照数据源"}
		}
		c.mismatch = problem{"differs from " + r.Param, "与 " + r.Param + " 不一致"}
	case kindValidity:
		if c.valid, ok = typeChecks[it.Type]; !ok {
			return nil, &ruleError{"item", "type",
				fmt.Sprintf("item %q has unknown type %q", it.Name, it.Type),
				fmt.Sprintf("数据项 %q 的类型 %q 未知", it.Name, it.Type)}
		}
		if it.Type == "division" {
			// A resource holds few distinct divisions, and idcode
			// allocates to parse a 6-digit one.
			c.valid = memoize(c.valid, 4096)
		}
		if r.Param != "" {
			if err := c.parseParam(r.Param); err != nil {
				return nil, err
			}
		}
	}
	return c, weight(c, r.Weight)
}

// memoize remembers the outcome of check for up to limit distinct values.
func memoize(check typeCheck, limit int) typeCheck {
	type outcome struct {
		p  problem
		ok bool
	}
	seen := make(map[string]outcome)
	return func(v string) (problem, bool) {
		if o, hit := seen[v]; hit {
			return o.p, o.ok
		}
		p, ok := check(v)
		if len(seen) < limit {
			seen[v] = outcome{p, ok}
		}
		return p, ok
	}
}

func paramNotUsed(kind string) *ruleError {
	return &ruleError{"param", "empty", "a " + kind + " rule takes no param", "此类规则不带参数"}
}

// weight sets c's weight: 0 means 1, and it cannot be negative.
func weight(c *check, w float64) *ruleError {
	if w == 0 {
		return nil
	}
	if !(w > 0) || math.IsInf(w, 1) {
		return &ruleError{"weight", "minimum", "weight must be a positive number (0 means 1)", "权重应为正数（0 表示 1）"}
	}
	c.weight = w
	return nil
}

// parseParam parses a validity param into c.allows and c.narrowed.
func (c *check) parseParam(param string) *ruleError {
	op, body, _ := strings.Cut(param, ":")
	bad := func(en, zh string) *ruleError {
		return &ruleError{"param", "format", op + ": " + en, op + "：" + zh}
	}
	switch op {
	case "enum":
		values := strings.Split(body, "|")
		set := make(map[string]struct{}, len(values))
		for i, v := range values {
			v = strings.TrimSpace(v)
			if v == "" {
				return bad("a value is empty", "有空值")
			}
			if c.valid != nil {
				if _, ok := c.valid(v); !ok {
					return bad(fmt.Sprintf("%q is not a valid %s", v, c.typ), fmt.Sprintf("%q 不是有效的 %s", v, c.typ))
				}
			}
			values[i] = v
			set[v] = struct{}{}
		}
		c.allows = func(v string) bool { _, ok := set[v]; return ok }
		c.narrowed = problem{"not one of the allowed values", "不在允许的取值中"}
		if len(values) <= 10 {
			c.narrowed = problem{"must be one of " + strings.Join(values, ", "), "应为 " + strings.Join(values, "、") + " 之一"}
		}
	case "regex":
		if body == "" {
			return bad("the pattern is empty", "正则表达式为空")
		}
		// Anchored: a validity pattern describes the whole value.
		re, err := regexp.Compile(`^(?:` + body + `)$`)
		if err != nil {
			return bad(err.Error(), "正则表达式有误："+err.Error())
		}
		c.allows = re.MatchString
		c.narrowed = problem{"does not match the required pattern", "不符合规定的格式"}
	case "range":
		if c.typ != "int" && c.typ != "number" {
			return bad("only int and number items have a range", "只有 int 和 number 类型的数据项可设取值范围")
		}
		lo, hi, loText, hiText, err := bounds(body, parseBound)
		if err != nil {
			return bad(err.en, err.zh)
		}
		c.allows = func(v string) bool {
			f, err := strconv.ParseFloat(v, 64) // v already passed the type check
			return err == nil && f >= lo && f <= hi
		}
		switch {
		case loText == "":
			c.narrowed = problem{"must be at most " + hiText, "应不大于 " + hiText}
		case hiText == "":
			c.narrowed = problem{"must be at least " + loText, "应不小于 " + loText}
		default:
			c.narrowed = problem{"must be between " + loText + " and " + hiText, "应在 " + loText + " 到 " + hiText + " 之间"}
		}
	case "len":
		lo, hi, loText, hiText, err := bounds(body, parseLength)
		if err != nil {
			return bad(err.en, err.zh)
		}
		c.allows = func(v string) bool {
			n := float64(utf8.RuneCountInString(v))
			return n >= lo && n <= hi
		}
		switch {
		case loText == hiText:
			c.narrowed = problem{"must be " + loText + " characters long", "长度应为 " + loText + " 个字符"}
		case loText == "":
			c.narrowed = problem{"must be at most " + hiText + " characters long", "长度应不超过 " + hiText + " 个字符"}
		case hiText == "":
			c.narrowed = problem{"must be at least " + loText + " characters long", "长度应不少于 " + loText + " 个字符"}
		default:
			c.narrowed = problem{"must be " + loText + "-" + hiText + " characters long", "长度应为 " + loText + "-" + hiText + " 个字符"}
		}
	default:
		return &ruleError{"param", "format",
			"param must be enum:a|b|c, regex:<pattern>, range:min,max or len:min,max",
			"参数应为 enum:a|b|c、regex:<正则表达式>、range:最小值,最大值 或 len:最小长度,最大长度"}
	}
	return nil
}

// bounds parses "min,max" where either may be left out (not both); an
// open bound comes back as ∓Inf and "".
func bounds(body string, parse func(string) (float64, bool)) (lo, hi float64, loText, hiText string, err *problem) {
	loText, hiText, ok := strings.Cut(body, ",")
	loText, hiText = strings.TrimSpace(loText), strings.TrimSpace(hiText)
	if !ok || strings.Contains(hiText, ",") {
		return 0, 0, "", "", &problem{"write min,max (either may be left out)", "应写作 最小值,最大值（可省略其一）"}
	}
	if loText == "" && hiText == "" {
		return 0, 0, "", "", &problem{"give a min, a max or both", "须给出最小值或最大值"}
	}
	lo, hi = math.Inf(-1), math.Inf(1)
	for _, b := range []struct {
		text string
		to   *float64
	}{{loText, &lo}, {hiText, &hi}} {
		if b.text == "" {
			continue
		}
		if *b.to, ok = parse(b.text); !ok {
			return 0, 0, "", "", &problem{fmt.Sprintf("%q is not a valid bound", b.text), fmt.Sprintf("%q 不是有效的界限", b.text)}
		}
	}
	if lo > hi {
		return 0, 0, "", "", &problem{"min is greater than max", "最小值大于最大值"}
	}
	return lo, hi, loText, hiText, nil
}

func parseBound(s string) (float64, bool) {
	if !isDecimal(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func parseLength(s string) (float64, bool) {
	n, err := strconv.Atoi(s)
	return float64(n), err == nil && n >= 0
}

// run checks one record. It returns false with the problem when the record
// fails, and counts the check unless the record is not checked at all.
func (c *check) run(rec Record) (problem, bool) {
	v := strings.TrimSpace(rec.Values[c.item])
	var p problem
	switch c.kind {
	case kindCompleteness:
		if v == "" {
			p = problemMissing
		}
	case kindValidity:
		if v == "" {
			return p, true
		}
		if c.valid != nil {
			if vp, ok := c.valid(v); !ok {
				p = vp
				break
			}
		}
		if c.allows != nil && !c.allows(v) {
			p = c.narrowed
		}
	case kindUniqueness:
		if v == "" {
			return p, true
		}
		if c.counts[c.canon(v)] > 1 {
			p = problemDuplicate
		}
	case kindConsistency:
		if v == "" {
			return p, true
		}
		want, found := c.ref(rec.Key)
		if !found {
			return p, true
		}
		if c.canon(v) != c.canon(strings.TrimSpace(want)) {
			p = c.mismatch
		}
	}
	c.result.Checked++
	if p.en != "" {
		return p, false
	}
	c.result.Passed++
	return p, true
}

// canon is the form values are compared in: identifiers ignore case.
func (c *check) canon(v string) string {
	if c.typ == "idnumber" || c.typ == "creditcode" {
		return upperASCII(v)
	}
	return v
}
