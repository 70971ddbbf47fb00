package main

import (
	"context"
	"fmt"
	"runtime"
)

func cmdVersion(ctx context.Context, a *app, args []string) error {
	flags := a.flags("version", "", "Print the migrator's version, Go version and the migrations it carries.", false)
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	last := p.migrations[len(p.migrations)-1]
	fmt.Fprintf(a.stdout, "carthub-migrator %s (%s)\nmigrations: %d, latest %s\n", version, runtime.Version(), len(p.migrations), last.File)
	return nil
}
