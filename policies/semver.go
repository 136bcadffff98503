package policies

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"github.com/Masterminds/semver/v3"
)

// semverFunctions are the semantic-version helpers of every expression,
// for registry-driven deliveries. A leading "v" is accepted.
//
//	isSemver("v1.2.3")            true
//	"1.3.0".semverNewer("1.2.9")  true; any version is newer than ""
//	semverCompare("1.2.3", "1.10.0")  -1, 0 or 1
//	semverChange("1.2.3", "1.3.0")    "major", "minor", "patch", "prerelease" or "none"
var semverFunctions = []cel.EnvOption{
	cel.Function("isSemver",
		cel.Overload("isSemver_string", []*cel.Type{cel.StringType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.Bool(false)
				}
				_, err := semver.NewVersion(string(s))
				return types.Bool(err == nil)
			}))),
	cel.Function("semverNewer",
		cel.MemberOverload("string_semverNewer_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				if s, _ := b.(types.String); s == "" {
					_, err := parseSemver(a)
					if err != nil {
						return err
					}
					return types.Bool(true)
				}
				c := semverCompare(a, b)
				if types.IsError(c) {
					return c
				}
				return types.Bool(c.(types.Int) > 0)
			}))),
	cel.Function("semverCompare",
		cel.Overload("semverCompare_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.IntType,
			cel.BinaryBinding(semverCompare))),
	cel.Function("semverChange",
		cel.Overload("semverChange_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				from, err := parseSemver(a)
				if err != nil {
					return err
				}
				to, err := parseSemver(b)
				if err != nil {
					return err
				}
				switch {
				case from.Major() != to.Major():
					return types.String("major")
				case from.Minor() != to.Minor():
					return types.String("minor")
				case from.Patch() != to.Patch():
					return types.String("patch")
				case from.Prerelease() != to.Prerelease():
					return types.String("prerelease")
				}
				return types.String("none")
			}))),
}

func parseSemver(v ref.Val) (*semver.Version, ref.Val) {
	s, ok := v.(types.String)
	if !ok {
		return nil, types.NewErr("semver: want a string")
	}
	ver, err := semver.NewVersion(string(s))
	if err != nil {
		return nil, types.NewErr("semver: %q is not a semantic version", string(s))
	}
	return ver, nil
}

func semverCompare(a, b ref.Val) ref.Val {
	x, err := parseSemver(a)
	if err != nil {
		return err
	}
	y, err := parseSemver(b)
	if err != nil {
		return err
	}
	return types.Int(x.Compare(y))
}
