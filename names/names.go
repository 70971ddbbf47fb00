// Package names holds the names the modules must agree on: infra grants the migrator's role
// what k8s-synth's Job runs as and what the migrator creates, and the alarms read the metrics the
// migrator writes. Each module imports them from here instead of repeating the strings;
// infra's TestSharedNamesAgree checks the synthesized templates and manifests against them.
package names

const (
	// Namespace is the Kubernetes namespace of the migration Job.
	Namespace = "shopping-cart"
	// MigrationJob is the migration Job's name (its pods are named after it) and MigrationContainer
	// its container's: the log shipping picks the Job's logs by them.
	MigrationJob       = "database-migration"
	MigrationContainer = "migrator"
	// MigrationServiceAccount is the Job's ServiceAccount, bound to the migrator's IAM role by an
	// EKS Pod Identity association.
	MigrationServiceAccount = "database-migration"
	// SnapshotPrefix starts the name of every pre-migration RDS snapshot; the role may create and
	// delete only snapshots with it.
	SnapshotPrefix = "carthub-premigrate"
	// HistoryTable is the migrator's history table.
	HistoryTable = "carthub_schema_history"
	// DatabaseName is the database the migrations apply to.
	DatabaseName = "carthub"
	// DatabasePort is PostgreSQL's port.
	DatabasePort = 5432
	// RepositoryName is the ECR repository of the migrator's image (infra adds the environment).
	RepositoryName = "carthub-database"
	// Application is the migrator's application_name on the server and its name in the history.
	Application = "carthub-migrator"
	// MetricNamespace is the CloudWatch namespace of the migrator's run metrics (Embedded Metric
	// Format lines in its logs); MetricDimensions are their dimensions.
	MetricNamespace = "Carthub/Migrator"
)

// MetricDimensions are the dimensions of every run metric, in this order.
var MetricDimensions = []string{"Environment", "Command"}
