package main

import (
	"context"
	"fmt"
	"io"
)

// runMigrate applies (up), rolls back the last group of (down) or lists
// (status) the database migrations. The server also applies pending
// migrations at start; several replicas starting at once are safe.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: tasksd migrate up|down|status [flags]")
	}
	action, args := args[0], args[1:]
	cfg, err := parseConfig("tasksd migrate "+action, args, getenv, parseOptions{})
	if err != nil {
		return err
	}
	switch action {
	case "up", "down", "status":
	default:
		return fmt.Errorf("unknown migrate action %q (want up, down or status)", action)
	}
	store, err := openStoreNoMigrate(ctx, cfg, cfg.logger(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	var names []string
	switch action {
	case "up":
		names, err = store.MigrateUp(ctx)
	case "down":
		names, err = store.MigrateDown(ctx)
	default:
		return store.MigrationStatus(ctx, stdout)
	}
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "nothing to do")
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "%s %s\n", action, n)
	}
	return nil
}
