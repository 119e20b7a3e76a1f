// Package idcode parses and validates China's national identifiers: citizen
// ID numbers (GB 11643-1999), unified social credit codes (GB 32100-2015)
// with their embedded organisation codes (GB 11714-1997), and administrative
// division codes (GB/T 2260 and the 9- and 12-digit statistical codes). It
// also holds the masking helpers used wherever personal data is shown.
//
// The package has no state and no dependencies beyond the standard library
// and internal/platform/errs; everything in it is safe for concurrent use.
//
// # Errors
//
// Every parse error is an *errs.Error made by errs.Invalid, so it names the
// caller's field and one short rule, and says in English and Chinese what is
// wrong (for example "check character should be X, got 3" / "校验码应为 X，实为
// 3"). The rules are:
//
//	length                   wrong number of characters
//	charset                  a character outside the identifier's alphabet
//	check-character          the final check character does not match
//	birth-date               not a real date, before 1900-01-01, or in the future
//	division                 the division part of an ID or credit code is malformed
//	province                 the first two digits are not a province code
//	hierarchy                a division code has a zero level above a non-zero one
//	registration-authority   unknown credit code registration authority
//	organization-type        organisation type not defined for that authority
//	organization-code-check  the embedded GB 11714 code fails its own check
//
// # Citizen ID numbers
//
// [ParseCitizenID] accepts the 18-character form (with a lowercase x) and the
// legacy 15-digit form, which it upgrades by inserting "19" before the
// two-digit year and computing the check character. The birth date must be a
// real date from 1900-01-01 up to today, where "today" is the calendar date in
// China Standard Time (UTC+8, the time zone the date was registered in),
// whatever the server's own time zone. The division part must carry a valid
// province and be county-level, except for the prefecture-level cities that
// have no county-level divisions (东莞 441900, 中山 442000, 儋州 460400, 嘉峪关
// 620200), whose residents' numbers start with the city's own code.
//
// # Unified social credit codes
//
// [ParseCreditCode] checks the character set (digits and capital letters
// without I, O, S, V, Z), the check character, the registration authority and
// organisation type (from GB 32100-2015 and its published additions), the
// division part (a real province code, or 100000 for central bodies), and the
// check character of the embedded GB 11714 organisation code. Note that the
// two checks value letters differently: the credit code check uses the
// character's index in the 31-character alphabet (A=10, …, H=17, J=18, …), the
// organisation code check uses A=10 … Z=35.
//
// # Division codes
//
// [ParseDivision] accepts 6-digit GB/T 2260 codes and 9- or 12-digit
// statistical codes and returns the canonical 12-digit code, its significant
// prefix and its level. Only the province part is checked against a list;
// whether a division actually exists is for the divisions table to say.
package idcode
