package lint

import "fmt"

var revokesPrivilege = Rule{
	ID: "revokes-privilege",
	Reason: "a role lost a privilege on a table or view: the running version connecting as that role fails on its next statement that " +
		"needs it (permission denied)",
	Fix: "revoke in a -- migrator:post-deploy file, after the release that no longer needs the privilege is rolled out; grant what the new " +
		"release needs before it, in an ordinary file",
	check: func(j *judge, s *Statement) {
		for _, g := range s.revoked {
			s.add("revokes-privilege", fmt.Sprintf("%s: %s lost %s", g.table, g.grantee, g.privilege))
		}
	},
}
