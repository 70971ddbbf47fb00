package bench

import (
	"fmt"
	"strings"
)

// Figure is one measured figure of the report beside its goal.
type Figure struct {
	Key   string  `json:"key"`  // the goal's name in the report's goals
	Name  string  `json:"name"` // what was measured, for people
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Goal  string  `json:"goal"` // the bound, as the report shows it
	Holds bool    `json:"holds"`
}

// AtMost is a figure whose goal is value <= limit.
func AtMost(key, name string, value float64, unit string, limit float64) Figure {
	return Figure{Key: key, Name: name, Value: Round(value), Unit: unit, Goal: "at most " + number(limit, unit), Holds: Round(value) <= limit}
}

// Below is a figure whose goal is value < limit.
func Below(key, name string, value float64, unit string, limit float64) Figure {
	return Figure{Key: key, Name: name, Value: Round(value), Unit: unit, Goal: "under " + number(limit, unit), Holds: Round(value) < limit}
}

// Table renders figures as a markdown table.
func Table(figures []Figure) string {
	var b strings.Builder
	b.WriteString("| figure | measured | goal | holds |\n|---|---|---|---|\n")
	for _, f := range figures {
		holds := "yes"
		if !f.Holds {
			holds = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, number(f.Value, f.Unit), f.Goal, holds)
	}
	return b.String()
}

func number(v float64, unit string) string {
	switch unit {
	case "x":
		return fmt.Sprintf("%.2fx", v)
	case "":
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("%g %s", Round(v), unit)
}
