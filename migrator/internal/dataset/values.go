package dataset

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// mode is how the loader fills a column.
type mode int

const (
	modeServer mode = iota // left out of the INSERT: the server's default, identity or generation (or NULL)
	modeGen                // an SQL expression of the row number, per type
	modePool               // values the server accepted for the column, in turn
	modeFK                 // a referenced tuple, drawn whole
)

// rowIndex is the 0-based number of the row being generated, in the INSERT's FROM.
const rowIndex = "(carthub_gs.g - 1)"

// index is the expression whose value picks row i's value for c: the row's number for a key, its
// number modulo the shape's distinct count in a shaped plan.
func (c *column) index() string {
	if c.shape != nil && !c.unique && c.distinct > 0 {
		return fmt.Sprintf("(%s %% %d)", rowIndex, c.distinct)
	}
	return rowIndex
}

// small says whether c's integers stay among a few values (1 to 9), as a count or a quantity
// would: a column that is no key in a plan without a shape.
func (c *column) small() bool { return !c.unique && c.shape == nil }

// offset shifts a column's small numbers, dates and times by its position in the table, so that
// two columns of a type are not equal in every row: a CHECK (lo < hi) or (starts_at < ends_at)
// between columns declared in that order holds in most rows instead of none.
func (c *column) offset() int { return int(c.num) - 1 }

// gen is an SQL expression of type t (typmod mod) for row idx of column c, or "" for a type the
// generator cannot make values of (a composite, a multirange, a pseudo-type, an unknown base type).
func gen(t *pgType, mod int32, c *column, idx string, small bool) string {
	switch t.typtype {
	case "d":
		return gen(t.base, t.baseMod, c, idx, small)
	case "e":
		if len(t.labels) == 0 {
			return ""
		}
		return fmt.Sprintf("(%s)[%s %% %d + 1]", textArray(t.labels), idx, len(t.labels))
	case "r":
		// A one-point range per row: distinct rows never overlap (an exclusion constraint's &&).
		sub := gen(t.sub, -1, c, idx, false)
		if sub == "" {
			return ""
		}
		sub = fmt.Sprintf("(%s)::%s", sub, t.sub.name)
		return fmt.Sprintf("%s(%s, %s, '[]')", t.name, sub, sub)
	case "b":
	default:
		return ""
	}
	if t.elem != nil {
		if e := gen(t.elem, mod, c, idx, small); e != "" {
			return "ARRAY[" + e + "]"
		}
		return ""
	}
	switch t.name {
	case "smallint":
		if small {
			return fmt.Sprintf("(1 + (%s + %d) %% 9)", idx, c.offset())
		}
		return fmt.Sprintf("(%s %% 32767 + 1)", idx)
	case "integer", "bigint", "oid":
		if small {
			return fmt.Sprintf("(1 + (%s + %d) %% 9)", idx, c.offset())
		}
		return fmt.Sprintf("(%s + 1)", idx)
	case "numeric":
		return numeric(mod, idx)
	case "double precision", "real", "money":
		return fmt.Sprintf("((1 + %s %% 500) + (%s %% 100) / 100.0)", idx, idx)
	case "boolean":
		return fmt.Sprintf("(%s %% 2 = 0)", idx)
	case "timestamp with time zone":
		return fmt.Sprintf("(timestamptz '%s' - (%s - %d) * interval '1 minute')", datasetEpoch.Format("2006-01-02 15:04:05+00"), idx, c.offset())
	case "timestamp without time zone":
		return fmt.Sprintf("(timestamp '%s' - (%s - %d) * interval '1 minute')", datasetEpoch.Format("2006-01-02 15:04:05"), idx, c.offset())
	case "date":
		if c.unique {
			return fmt.Sprintf("(date '%s' + %s::int4)", datasetEpoch.Format("2006-01-02"), idx)
		}
		return fmt.Sprintf("(date '%s' + ((%s + %d) %% 28)::int4)", datasetEpoch.Format("2006-01-02"), idx, c.offset())
	case "time without time zone", "time with time zone":
		return fmt.Sprintf("(time '00:00' + (%s %% 86400) * interval '1 second')", idx)
	case "interval":
		return fmt.Sprintf("(%s * interval '1 minute')", idx)
	case "uuid":
		return fmt.Sprintf("('00000000-0000-4000-8000-' || lpad(to_hex(%s + 1), 12, '0'))::uuid", idx)
	case "jsonb":
		return fmt.Sprintf("jsonb_build_object('n', %s)", idx)
	case "json":
		return fmt.Sprintf("('{\"n\": ' || %s || '}')::json", idx)
	case "bytea":
		return fmt.Sprintf("decode(lpad(to_hex(%s), 8, '0'), 'hex')", idx)
	case "inet":
		return fmt.Sprintf("('10.0.0.0'::inet + %s)", idx)
	case "cidr":
		return fmt.Sprintf("set_masklen('10.0.0.0'::inet + %s * 256, 24)::cidr", idx)
	case "macaddr":
		return fmt.Sprintf("('08:00:2b:' || substr(lpad(to_hex(%s), 6, '0'), 1, 2) || ':' || substr(lpad(to_hex(%s), 6, '0'), 3, 2) || ':' || substr(lpad(to_hex(%s), 6, '0'), 5, 2))::macaddr", idx, idx, idx)
	}
	if t.category == "S" {
		return text(c, mod, t.name, idx)
	}
	return ""
}

// numeric is a number that fits numeric(p, s): 1 to 500 and a fraction of hundredths, fewer
// whole units where p - s leaves less room.
func numeric(mod int32, idx string) string {
	if mod < 4 {
		return fmt.Sprintf("((1 + %s %% 500) + (%s %% 100) / 100.0)", idx, idx)
	}
	p, s := int((mod-4)>>16)&0xffff, int(mod-4)&0xffff
	if s > p {
		return "0"
	}
	whole := 500
	if p-s < 4 {
		limit := 1
		for range p - s {
			limit *= 10
		}
		whole = min(whole, limit-2) // the fraction must not round up past the last whole number
	}
	if whole < 1 {
		return fmt.Sprintf("((%s %% 100) / 100.0 / 10)", idx)
	}
	return fmt.Sprintf("((1 + %s %% %d) + (%s %% 100) / 100.0)", idx, whole, idx)
}

// text is "<column>-<n>", padded to the shape's width and cut to the type's length.
func text(c *column, mod int32, typ, idx string) string {
	v := fmt.Sprintf("(%s || (%s + 1))", literal(c.name+"-"), idx)
	if c.shape != nil && c.shape.AvgWidth > 2 { // avg_width counts a short varlena's 1-byte header
		w := c.shape.AvgWidth - 1
		v = fmt.Sprintf("rpad(%s, greatest(length(%s), %d), 'x')", v, v, w)
	}
	// Cut to the type's length only when "<column>-<n>" and the padding may be longer.
	longest := len(c.name) + 21
	if c.shape != nil {
		longest = max(longest, c.shape.AvgWidth)
	}
	if (typ == "character varying" || typ == "character") && mod >= 5 && int(mod-4) < longest {
		v = fmt.Sprintf("right(%s, %d)", v, mod-4)
	}
	return v
}

// literal quotes s as an SQL string constant.
func literal(s string) string { return sqlscript.QuoteLiteral(s) }

// textArray is an SQL text[] of vs.
func textArray(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = literal(v)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
}

var (
	quotedConstant = regexp.MustCompile(`'((?:[^']|'')*)'`)
	numberConstant = regexp.MustCompile(`-?\b\d+(?:\.\d+)?\b`)
)

// candidates are values worth offering the server for a column whose generated values it
// refused: the constants its CHECKs and its domain's CHECKs mention (an IN list's values), numbers
// beside each number they mention (a range's bounds) and strings of those lengths (length()
// bounds), then a few that common types accept. The server decides which of them fit.
func candidates(c *column) []string {
	var defs []string
	for _, k := range c.checks {
		defs = append(defs, k.expr)
	}
	for t := c.t; t != nil; {
		defs = append(defs, t.checks...)
		switch {
		case t.typtype == "d":
			t = t.base
		case t.elem != nil:
			t = t.elem
		default:
			t = nil
		}
	}
	var out []string
	for _, d := range defs {
		for _, m := range quotedConstant.FindAllStringSubmatch(d, -1) {
			out = append(out, strings.ReplaceAll(m[1], "''", "'"))
		}
	}
	for _, d := range defs {
		for _, m := range numberConstant.FindAllString(quotedConstant.ReplaceAllString(d, ""), -1) {
			f, err := strconv.ParseFloat(m, 64)
			if err != nil {
				continue
			}
			for _, v := range []float64{f, f + 1, f - 1, f + 0.5, f - 0.5} {
				out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
			}
			if f >= 1 && f <= 1000 && f == float64(int(f)) {
				for _, n := range []int{int(f), int(f) + 1, int(f) - 1} {
					if n > 0 {
						out = append(out, strings.Repeat("x", n))
					}
				}
			}
		}
	}
	out = append(out, "0", "1", "2", "-1", "a", "b", "x", "true", "false", "{}", "[]", "(0,0)", "((0,0),(1,1))",
		"<(0,0),1>", "2026-01-01", "00:00:00", "08:00:2b:01:02:03", "0/0", "1 day", `\x00`, `{"n": 1}`, "1.5")
	for i := range 20 {
		out = append(out, fmt.Sprintf("%s-%d", c.name, i+1))
	}
	return out
}
