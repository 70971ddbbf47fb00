package corpus

import (
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrations"
)

// The shipped corpus parses, and every statement has a name of its own.
func TestShippedCorpus(t *testing.T) {
	qs, err := Parse("migrations/queries.sql", migrations.Queries)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, q := range qs {
		byName[q.Name] = q.SQL
	}
	for _, want := range []string{"cart_by_customer", "upsert_cart_item", "update_quantity", "customer_orders", "checkout_order"} {
		if !strings.Contains(byName[want], "$1") {
			t.Errorf("queries.sql lacks %s with a $1 parameter: %q", want, byName[want])
		}
	}
}

func TestParseRefusesWhatItCannotRead(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"duplicate_name", "-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n", `the name "a" is already used at line 2`},
		{"misspelt_tag", "--name : a\nSELECT 1;\n", `write "-- name: NAME"`},
		{"open_quote", "SELECT 'x;\n", "queries.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("queries.sql", tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Merging keeps each statement once: a known one keeps its name and takes the new count, a new
// one is appended (most called first), and the file reads back as it was written.
func TestMergeAndFormat(t *testing.T) {
	have := []Query{{Name: "cart", SQL: "SELECT * FROM carts WHERE id = $1"}}
	captured := []Query{
		{Name: "q1", SQL: "SELECT *  FROM carts\n WHERE id = $1", Calls: 40},
		{Name: "q2", SQL: "DELETE FROM cart_items WHERE id = $1", Calls: 5},
		{Name: "q3", SQL: "UPDATE carts SET updated_at = now() WHERE id = $1", Calls: 9},
	}
	merged := Merge(have, captured)
	var names []string
	for _, q := range merged {
		names = append(names, q.Name)
	}
	if strings.Join(names, ",") != "cart,q3,q2" || merged[0].Calls != 40 {
		t.Errorf("merged %+v, want cart (40 calls), q3, q2", merged)
	}
	text := Format("the header", merged)
	back, err := Parse("queries.sql", text)
	if err != nil || len(back) != 3 || back[0].Calls != 40 || back[2].Name != "q2" || !strings.HasPrefix(text, "-- the header\n") {
		t.Errorf("Format then Parse: %v %+v\n%s", err, back, text)
	}
}
