package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size in bytes: a number with an optional B, KiB, MiB
// or GiB suffix (KB, MB and GB mean the same), e.g. 1048576, 512KiB or
// 25MiB.
func ParseSize(s string) (int64, error) {
	units := map[string]int64{"": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20, "GB": 1 << 30, "GIB": 1 << 30}
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	}
	n, err := strconv.ParseInt(num, 10, 64)
	mult, ok := units[unit]
	if err != nil || !ok || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size: write e.g. 1048576, 512KiB or 25MiB", s)
	}
	return n * mult, nil
}

// FormatSize writes a size as ParseSize reads it, in the largest unit
// that divides it.
func FormatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
