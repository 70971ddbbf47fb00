package manifests

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Render writes objects as one multi-document YAML stream. Output is deterministic (map keys
// sorted) and carries no empty noise such as status: {} or creationTimestamp: null.
func Render(header string, objects []any) ([]byte, error) {
	var buf bytes.Buffer
	if header != "" {
		fmt.Fprintf(&buf, "# %s\n", header)
	}
	for i, obj := range objects {
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		var tree map[string]any
		if err := json.Unmarshal(raw, &tree); err != nil {
			return nil, err
		}
		prune(tree)
		out, err := yaml.Marshal(tree)
		if err != nil {
			return nil, err
		}
		if i > 0 || header != "" {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// prune drops null values (unset fields such as creationTimestamp) and an empty spec or status, the
// noise typed objects carry. Other empty objects stay: podSelector: {} means "every pod".
func prune(tree map[string]any) {
	dropNulls(tree)
	for _, k := range []string{"spec", "status"} {
		if m, ok := tree[k].(map[string]any); ok && len(m) == 0 {
			delete(tree, k)
		}
	}
}

func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if child == nil {
				delete(t, k)
				continue
			}
			dropNulls(child)
		}
	case []any:
		for _, child := range t {
			dropNulls(child)
		}
	}
}
