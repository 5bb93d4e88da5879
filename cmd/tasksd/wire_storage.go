package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/example/tasks/internal/telemetry"
	"github.com/example/tasks/storage"
)

// openStore opens the database DATABASE_URL names (SQLite in DATA_DIR when
// it is empty) and applies pending migrations. Its queries are traced and
// its pools measured through tel, when not nil.
func openStore(ctx context.Context, cfg config, logger *slog.Logger, tel *telemetry.Telemetry) (*storage.Store, error) {
	store, err := openStoreNoMigrate(ctx, cfg, logger, tel)
	if err != nil {
		return nil, err
	}
	applied, err := store.MigrateUp(ctx)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("migrating the database: %w", err)
	}
	if len(applied) > 0 {
		logger.Info("migrated the database", "applied", applied)
	}
	return store, nil
}

// openStoreNoMigrate opens the database without touching its schema.
func openStoreNoMigrate(ctx context.Context, cfg config, logger *slog.Logger, tel *telemetry.Telemetry) (*storage.Store, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = storage.DefaultSQLitePath(cfg.DataDir)
	}
	sc := storage.Config{
		URL:              url,
		ListenURL:        cfg.DatabaseListenURL,
		MaxOpenConns:     cfg.DBMaxConns,
		StatementTimeout: cfg.StatementTimeout,
		SimpleProtocol:   !cfg.PreparedStatements,
		ChangeRetention:  cfg.ChangeRetention,
		MaxTasksPerUser:  cfg.MaxTasksPerUser,
		Logger:           logger,
	}
	if tel != nil {
		sc.Tracer, sc.Meter = tel.Tracer, tel.Meter
	}
	store, err := storage.Open(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	logger.Debug("opened the database", "backend", store.Backend())
	return store, nil
}
