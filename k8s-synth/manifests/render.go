package manifests

import "encoding/json"

// Tree is obj as the plain JSON tree that is written: nulls and an empty spec or status dropped.
func Tree(obj any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	prune(tree)
	return tree, nil
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
