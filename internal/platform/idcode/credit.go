package idcode

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// CreditCode is a parsed unified social credit code (统一社会信用代码,
// GB 32100-2015).
type CreditCode struct {
	Code          string // canonical uppercase 18 chars
	Authority     byte   // registration authority code, e.g. '9'
	AuthorityName string // Chinese, e.g. "工商"
	Type          byte   // organisation type code, e.g. '1'
	TypeName      string // Chinese, e.g. "企业"
	Division      string // 6 digits: the registering authority's division
	OrgCode       string // 9 chars (GB 11714, incl. its check)
}

// creditChars is the GB 32100 alphabet; a character's value is its index.
const creditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditValues maps a byte to its value in creditChars, or -1.
var creditValues = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(creditChars); i++ {
		t[creditChars[i]] = int8(i)
	}
	return t
}()

// creditWeights are 3^i mod 31 for i = 0..16.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the GB 11714 weights of the 8 body characters.
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// centralDivision is the division part of codes registered by central
// (national-level) authorities, e.g. 11100000000013127D.
const centralDivision = "100000"

type authority struct {
	name  string
	types map[byte]string
}

// authorities lists the registration authorities and their organisation
// types: GB 32100-2015 table A.1 plus the published additions (A, N, and
// the 民政 types 4 and 5 for villagers' and residents' committees).
var authorities = map[byte]authority{
	'1': {"机构编制", map[byte]string{'1': "机关", '2': "事业单位", '3': "中央编办直接管理机构编制的群众团体", '9': "其他"}},
	'2': {"外交", map[byte]string{'1': "外国常驻新闻机构", '9': "其他"}},
	'3': {"司法行政", map[byte]string{'1': "律师执业机构", '2': "公证处", '3': "基层法律服务所", '4': "司法鉴定机构", '5': "仲裁委员会", '9': "其他"}},
	'4': {"文化", map[byte]string{'1': "外国在华文化中心", '9': "其他"}},
	'5': {"民政", map[byte]string{'1': "社会团体", '2': "民办非企业单位", '3': "基金会", '4': "村民委员会", '5': "居民委员会", '9': "其他"}},
	'6': {"旅游", map[byte]string{'1': "外国政府旅游部门常驻代表机构", '2': "港澳台地区旅游部门常驻内地（大陆）代表机构", '9': "其他"}},
	'7': {"宗教", map[byte]string{'1': "宗教活动场所", '2': "宗教院校", '9': "其他"}},
	'8': {"工会", map[byte]string{'1': "基层工会", '9': "其他"}},
	'9': {"工商", map[byte]string{'1': "企业", '2': "个体工商户", '3': "农民专业合作社"}},
	'A': {"中央军委改革和编制办公室", map[byte]string{'1': "军队事业单位", '9': "其他"}},
	'N': {"农业", map[byte]string{'1': "组级集体经济组织", '2': "村级集体经济组织", '3': "乡镇级集体经济组织", '9': "其他"}},
	'Y': {"其他", map[byte]string{'1': "其他"}},
}

// CreditCodeCheck returns the GB 32100 check character of the first 17
// characters of a unified social credit code (uppercase, from the alphabet
// 0-9 and A-Z without I, O, S, V, Z).
func CreditCodeCheck(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, errs.Invalid("code", "length",
			fmt.Sprintf("need the first 17 characters of a credit code, got %d", utf8.RuneCountInString(first17)),
			fmt.Sprintf("应为统一社会信用代码的前 17 位，实为 %d 位", utf8.RuneCountInString(first17)))
	}
	if i, ok := firstNotCredit(first17); !ok {
		return 0, creditCharsetError("code", first17, i)
	}
	return creditCheck(first17), nil
}

// creditCheck computes the check character of 17 characters known to be in
// the alphabet.
func creditCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(creditValues[first17[i]]) * creditWeights[i]
	}
	return creditChars[(31-sum%31)%31]
}

// OrgCodeCheck returns the GB 11714 check character ('0'-'9' or 'X') of the
// 8-character body of an organisation code (digits and uppercase letters,
// letters valued A=10 … Z=35).
func OrgCodeCheck(first8 string) (byte, error) {
	if len(first8) != 8 {
		return 0, errs.Invalid("orgCode", "length",
			fmt.Sprintf("need the first 8 characters of an organisation code, got %d", utf8.RuneCountInString(first8)),
			fmt.Sprintf("应为组织机构代码的前 8 位，实为 %d 位", utf8.RuneCountInString(first8)))
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := first8[i]
		var v int
		switch {
		case isDigit(c):
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			en, zh := badCharMsg(first8, i)
			return 0, errs.Invalid("orgCode", "charset", en+" must be a digit or an uppercase letter", zh+"应为数字或大写字母")
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', nil
	case 11:
		return '0', nil
	default:
		return byte('0' + c), nil
	}
}

// ParseCreditCode parses a unified social credit code. Surrounding white
// space is ignored and lowercase letters are accepted. It checks the length,
// the alphabet, the check character, that the registration authority and
// organisation type are known, the division part, and the check character
// of the embedded organisation code. Errors are *errs.Error values naming
// field; see the package documentation for rules.
func ParseCreditCode(field, s string) (CreditCode, error) {
	s = upperASCII(strings.TrimSpace(s))
	// Count characters, not bytes; the alphabet check below then rejects
	// anything non-ASCII, so afterwards len(s) == 18.
	if n := utf8.RuneCountInString(s); n != 18 {
		return CreditCode{}, errs.Invalid(field, "length",
			fmt.Sprintf("a unified social credit code has 18 characters, got %d", n),
			fmt.Sprintf("统一社会信用代码应为 18 位，实为 %d 位", n))
	}
	if i, ok := firstNotCredit(s); !ok {
		return CreditCode{}, creditCharsetError(field, s, i)
	}
	if want := creditCheck(s[:17]); s[17] != want {
		return CreditCode{}, errs.Invalid(field, "check-character",
			fmt.Sprintf("check character should be %c, got %c", want, s[17]),
			fmt.Sprintf("校验码应为 %c，实为 %c", want, s[17]))
	}
	auth, typeName, err := authorityAndType(field, field, s[0], s[1])
	if err != nil {
		return CreditCode{}, err
	}
	if err := checkCreditDivision(field, s[2:8]); err != nil {
		return CreditCode{}, err
	}
	org := s[8:17]
	if want, _ := OrgCodeCheck(org[:8]); org[8] != want {
		return CreditCode{}, errs.Invalid(field, "organization-code-check",
			fmt.Sprintf("the organisation code %s in characters 9-17: its check character should be %c, got %c", org, want, org[8]),
			fmt.Sprintf("第 9-17 位的组织机构代码 %s：校验码应为 %c，实为 %c", org, want, org[8]))
	}
	return CreditCode{
		Code: s, Authority: s[0], AuthorityName: auth.name, Type: s[1], TypeName: typeName,
		Division: s[2:8], OrgCode: org,
	}, nil
}

// MakeCreditCode builds a valid unified social credit code from its parts,
// computing the organisation code's check character and then the code's.
// orgBase8 is the 8-character body of the organisation code, from the credit
// code alphabet (lowercase letters are accepted). Errors name the argument
// that is wrong ("authority", "type", "division" or "orgBase8").
func MakeCreditCode(authority, typ byte, division string, orgBase8 string) (string, error) {
	if _, _, err := authorityAndType("authority", "type", authority, typ); err != nil {
		return "", err
	}
	if len(division) != 6 {
		return "", errs.Invalid("division", "length",
			fmt.Sprintf("a division code has 6 digits, got %d", utf8.RuneCountInString(division)),
			fmt.Sprintf("行政区划代码应为 6 位，实为 %d 位", utf8.RuneCountInString(division)))
	}
	if err := checkCreditDivision("division", division); err != nil {
		return "", err
	}
	orgBase8 = upperASCII(orgBase8)
	if len(orgBase8) != 8 {
		return "", errs.Invalid("orgBase8", "length",
			fmt.Sprintf("an organisation code body has 8 characters, got %d", utf8.RuneCountInString(orgBase8)),
			fmt.Sprintf("组织机构代码本体应为 8 位，实为 %d 位", utf8.RuneCountInString(orgBase8)))
	}
	if i, ok := firstNotCredit(orgBase8); !ok {
		return "", creditCharsetError("orgBase8", orgBase8, i)
	}
	var b [18]byte
	b[0], b[1] = authority, typ
	copy(b[2:8], division)
	copy(b[8:16], orgBase8)
	b[16], _ = OrgCodeCheck(orgBase8)
	b[17] = creditCheck(string(b[:17]))
	return string(b[:]), nil
}

// authorityAndType looks up the registration authority a and organisation
// type t, returning the type's name. Errors name authField or typeField.
func authorityAndType(authField, typeField string, a, t byte) (authority, string, error) {
	auth, ok := authorities[a]
	if !ok {
		return authority{}, "", errs.Invalid(authField, "registration-authority",
			fmt.Sprintf("registration authority code %q is unknown (known: 1-9, A, N, Y)", a),
			fmt.Sprintf("登记管理部门代码 %q 不存在（应为 1-9、A、N、Y）", a))
	}
	name, ok := auth.types[t]
	if !ok {
		return authority{}, "", errs.Invalid(typeField, "organization-type",
			fmt.Sprintf("organisation type %q is not defined for registration authority %c (%s)", t, a, auth.name),
			fmt.Sprintf("登记管理部门 %c（%s）下没有机构类别代码 %q", a, auth.name, t))
	}
	return auth, name, nil
}

// checkCreditDivision checks the division part of a credit code: 6 digits,
// either 100000 (central authorities) or a province code followed by a
// consistent city and county part.
func checkCreditDivision(field, div string) error {
	if i, ok := firstNonDigit(div); !ok {
		en, zh := badCharMsg(div, i)
		return errs.Invalid(field, "division",
			"division code "+div+": "+en+" must be a digit", "行政区划代码 "+div+"："+zh+"应为数字")
	}
	if div == centralDivision {
		return nil
	}
	if err := checkProvince(field, div[:2]); err != nil {
		return err
	}
	if depth, gap := divisionDepth(div); gap >= 0 {
		return hierarchyError(field, "division", div, depth, gap)
	}
	return nil
}

// firstNotCredit returns the byte offset of the first byte of s outside the
// credit code alphabet, and false; or 0 and true.
func firstNotCredit(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		if creditValues[s[i]] < 0 {
			return i, false
		}
	}
	return 0, true
}

func creditCharsetError(field, s string, i int) error {
	en, zh := badCharMsg(s, i)
	return errs.Invalid(field, "charset",
		en+" is not allowed: use digits and uppercase letters except I, O, S, V, Z",
		zh+"不合法：只能使用数字和除 I、O、S、V、Z 以外的大写字母")
}

// upperASCII upper-cases ASCII letters only, allocating only when s has a
// lowercase letter. (strings.ToUpper would also map non-ASCII letters, some
// of them to ASCII, e.g. 'ı' to 'I'.)
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
