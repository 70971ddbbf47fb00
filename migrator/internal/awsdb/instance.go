package awsdb

import "slices"

// Instance is what the migrator needs to know about an RDS instance.
type Instance struct {
	ID      string `json:"id"`
	ARN     string `json:"arn"`
	Status  string `json:"status"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

// Transient are the statuses an instance passes through and comes back from on its own: wait for them.
var Transient = []string{"backing-up", "configuring-enhanced-monitoring", "configuring-iam-database-auth",
	"configuring-log-exports", "converting-to-vpc", "creating", "maintenance", "modifying", "moving-to-vpc",
	"rebooting", "renaming", "resetting-master-credentials", "starting", "storage-config-upgrade", "upgrading"}

// Usable are the statuses in which the instance takes connections.
var Usable = []string{"available", "storage-optimization"}

// Wait says what to do about an instance status: ok (connect), wait (it changes by itself), or
// neither (stopped, failed, ...: give up at once).
func Wait(status string) (ok, wait bool) {
	return slices.Contains(Usable, status), slices.Contains(Transient, status)
}
