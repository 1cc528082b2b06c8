package core

import (
	"fmt"
	"strconv"
	"strings"
)

// SearchEntry splits a case number made by FormatCaseNumber into its month
// stem (the number less its day and count: ST202611) and a 4-byte entry,
// the day (1 byte) and the count (3 bytes, big-endian): how the stores pack
// a word index term's cases per month, 4 bytes a case. Entries of a month
// sort as its numbers do while a day's count stays below 10,000. ok is
// false for a number not made by FormatCaseNumber.
func SearchEntry(number string) (stem string, entry [4]byte, ok bool) {
	digits := strings.LastIndexFunc(number, func(r rune) bool { return r < '0' || r > '9' }) + 1
	if len(number)-digits < 12 {
		return "", entry, false
	}
	day, err1 := strconv.Atoi(number[digits+6 : digits+8])
	count, err2 := strconv.Atoi(number[digits+8:])
	if err1 != nil || err2 != nil || day < 1 || day > 31 || count < 0 || count >= 1<<24 {
		return "", entry, false
	}
	return number[:digits+6], [4]byte{byte(day), byte(count >> 16), byte(count >> 8), byte(count)}, true
}

// SearchEntryNumber is SearchEntry's inverse: the number of entry e (4
// bytes) of month stem.
func SearchEntryNumber(stem string, e []byte) string {
	count := int(e[1])<<16 | int(e[2])<<8 | int(e[3])
	return stem + fmt.Sprintf("%02d%04d", e[0], count)
}
