package lint

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
)

// DefaultMaxPlanGrowth is how many times its estimated cost an application statement's plan may
// grow by with a file before slows-running-app fails it.
const DefaultMaxPlanGrowth = 10.0

func (o Options) maxPlanGrowth() float64 {
	if o.MaxPlanGrowth > 0 {
		return o.MaxPlanGrowth
	}
	return DefaultMaxPlanGrowth
}

// plan is what lint keeps of an application statement's generic plan: its estimated cost, how
// it reads each table, and a line a reader can follow.
type plan struct {
	cost  float64
	scans map[string]string // table -> "Index Scan", "Seq Scan", ...
	text  string
}

// planChange is an application statement whose plan got worse.
type planChange struct {
	query              corpus.Query
	why, before, after string
}

// minPlanCost is the estimated cost below which a plan's growth is noise, not a slowdown.
const minPlanCost = 100

// explain plans st the way a long-running session runs it: the generic plan (plan_cache_mode
// force_generic_plan, what EXPLAIN (GENERIC_PLAN) shows on PostgreSQL 16 and later, and what a
// prepared statement settles on after five executions).
func explain(ctx context.Context, conn *pgx.Conn, st *appStatement, inTransaction bool) (plan, error) {
	res, err := inOneTrip(ctx, conn, inTransaction, "SET LOCAL plan_cache_mode = force_generic_plan; ", "EXPLAIN (FORMAT JSON) EXECUTE "+st.name+st.args)
	if err != nil {
		return plan{}, fmt.Errorf("plan the application's statement %s: %w", st.query.Name, err)
	}
	var doc string
	if res.Err == nil && len(res.Rows) > 0 && len(res.Rows[0]) > 0 {
		doc = string(res.Rows[0][0])
	}
	var nodes []struct {
		Plan map[string]any `json:"Plan"`
	}
	if doc == "" || json.Unmarshal([]byte(doc), &nodes) != nil || len(nodes) == 0 {
		return plan{}, nil
	}
	p := plan{scans: map[string]string{}}
	p.cost, _ = nodes[0].Plan["Total Cost"].(float64)
	var steps []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		kind, _ := n["Node Type"].(string)
		if rel, ok := n["Relation Name"].(string); ok {
			step := kind + " on " + rel
			if ix, ok := n["Index Name"].(string); ok {
				step += " using " + ix
			}
			steps = append(steps, step)
			if prev, seen := p.scans[rel]; !seen || prev == "Seq Scan" {
				p.scans[rel] = kind
			}
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					walk(m)
				}
			}
		}
	}
	walk(nodes[0].Plan)
	p.text = fmt.Sprintf("%s (cost %.0f)", strings.Join(steps, ", "), p.cost)
	return p, nil
}

// worse says whether after is a worse plan than p: a populated table read by an index before is
// read in full now, or the estimated cost grew past growth times.
func (p plan) worse(after plan, growth float64, populated map[string]int64) (planChange, bool) {
	if p.scans == nil || after.scans == nil {
		return planChange{}, false
	}
	for _, t := range sortedKeys(after.scans) {
		before, ok := p.scans[t]
		if ok && before != "Seq Scan" && after.scans[t] == "Seq Scan" && populated[t] > 0 {
			return planChange{why: fmt.Sprintf("%s read in full (%d rows here) where an index found its rows", t, populated[t]),
				before: p.text, after: after.text}, true
		}
	}
	// Cost alone: the same tables read (a partition attached brings rows, not a worse plan), from a
	// plan that had a cost to speak of.
	sameTables := true
	for t := range after.scans {
		if _, ok := p.scans[t]; !ok {
			sameTables = false
		}
	}
	if sameTables && p.cost >= 1 && after.cost > minPlanCost && after.cost > growth*p.cost {
		return planChange{why: fmt.Sprintf("estimated cost %.0f, %.0f times %.0f before the file (limit %g times)", after.cost, after.cost/max(p.cost, 1), p.cost, growth),
			before: p.text, after: after.text}, true
	}
	return planChange{}, false
}

// columnEqualsParam finds "alias.column = $N" (a cast between them allowed) and "$N = alias.column"
// in a plan's conditions.
var columnEqualsParam = regexp.MustCompile(`\b(\w+)\.(\w+)\)?(?:::[\w ]+(?:\([\d,]+\))?)?\s*=\s*\$(\d+)|\$(\d+)\s*=\s*\(?(\w+)\.(\w+)`)
