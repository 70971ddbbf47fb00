// Command pgxfloor is the no-op's floor: a program that imports pgx and nothing else of ours,
// connects, runs select 1 and exits. Its own binary, so that its start costs what any pgx
// program's does (the bench's binary carries the migrator's packages and their init).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pgxfloor DATABASE_URL")
		os.Exit(2)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var one int
	err = conn.QueryRow(ctx, "select 1", pgx.QueryExecModeSimpleProtocol).Scan(&one)
	conn.Close(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
