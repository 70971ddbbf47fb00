package lint

var appStatementNotRun = Rule{
	ID: "app-statement-not-run",
	Reason: "lint could not run a statement of the application's (queries.sql) before the file with any values it drew from the dataset " +
		"and the constraints: it cannot tell what the file does to it",
	Fix: "make the statement run on a copy of the schema with data (its parameters as pg_stat_statements shows them, $1, $2, ...), or take " +
		"it out of queries.sql if the application no longer runs it; allow the finding with a reason if its values cannot be drawn from the tables",
}
