// Package quality scores the data quality of a resource in the government
// data catalog (政务数据资源目录). The exchange service runs it when a
// resource is published and on a schedule; the score goes into the catalog
// and the list of failing records goes back to the provider to fix.
//
// The package is pure: no storage, no I/O, and the evaluation time comes in
// with the input (only idcode's "birth date is not in the future" check reads
// today's date itself). [Evaluate] takes the resource's data items, its
// rules, its records and the reference sources, and returns a score per rule
// and per resource. It is safe for concurrent use when the references are.
//
// # Rules
//
// A [Rule] has a kind, usually a data item, and sometimes a parameter:
//
//	completeness  the item is not empty. Every record is checked.
//	validity      the item's value has the item's type (see below) and, when
//	              Param is set, also passes it:
//	                enum:a|b|c     one of the values
//	                regex:<RE2>    the whole value matches
//	                range:min,max  int and number items only
//	                len:min,max    length in characters
//	              Either bound of a range or len may be left out ("len:,20").
//	              Empty values are not checked.
//	uniqueness    no two records hold the same value; every record whose value
//	              is shared fails, not only the second one. Empty values are
//	              not checked.
//	timeliness    one check for the whole resource: the last load
//	              (Input.LastUpdate, or else the newest Record.UpdatedAt) is no
//	              older than the update cycle allows (see [Cycle]); an
//	              irregular resource always passes. Names no item.
//	consistency   the item's value equals what the reference source named by
//	              Param holds for the record's key. Records the source does
//	              not know, and empty values, are not checked.
//
// [DefaultRules] derives the standard set from the items, and
// [ValidateRules] checks a set before it is stored.
//
// Values are compared and checked with surrounding white space removed, so
// " 42" is a valid int and a value of only spaces is empty. Citizen ID
// numbers and credit codes are also compared in upper case for uniqueness
// and consistency.
//
// # Types
//
//	string      anything
//	int         decimal integer, optional sign (64-bit)
//	number      decimal number, optional sign, fraction and exponent; no
//	            Inf, NaN or hex
//	date        YYYY-MM-DD, a real calendar date
//	datetime    RFC 3339, e.g. 2024-05-01T08:30:00+08:00
//	bool        true or false, lower case
//	idnumber    18-character citizen ID number (GB 11643-1999); the check
//	            character, birth date and division are checked by idcode,
//	            and a legacy 15-digit number is reported as such
//	creditcode  unified social credit code (GB 32100-2015), checked by idcode
//	division    6-digit GB/T 2260 or 12-digit statistical division code
//	phone       mobile: 11 digits starting with 1; fixed line: 7-13 digits
//	            with at most one hyphen, not starting with 1
//	email       ASCII address local@domain.tld
//
// # Scores and failures
//
// A rule's score is Passed/Checked*100, or 100 when it checked nothing. The
// resource's score is the mean of its rules' scores weighted by Rule.Weight
// (0 counts as 1), rounded to 0.1; 100 when there are no rules.
//
// Failures come resource-level first (timeliness, and rules that cannot
// run), in rule order, then per record in record order and, within a record,
// in rule order. Only the first Input.MaxFailures are listed (1000 when it
// is 0, none when negative), but Failed and FailedRecords always count all
// of them; FailedRecords counts distinct keys, and each failing record with
// an empty key on its own. A problem text names the item and
// what is wrong ("idNumber: check digit wrong" / "idNumber：校验位错误") but
// never repeats the value, since the list leaves the platform and values are
// often personal data; the caller masks Failure.Key where it is personal.
//
// Evaluate never fails. A rule it cannot run, because ValidateRules would
// reject it (an unknown kind or item, a bad parameter, a negative weight),
// because its reference source is not in Input.References, or because the
// update cycle is unknown, counts as one failed resource-level check with a
// problem saying why. That lowers the score, so a misconfigured rule is seen
// rather than silently scoring 100.
package quality
