package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/example/tasks/auth"
)

// newVerifier builds the token verifier from the AUTH_* settings.
func newVerifier(ctx context.Context, cfg config, logger *slog.Logger) (*auth.Verifier, error) {
	return auth.New(ctx, auth.Config{
		JWKSURL:   cfg.JWKSURL,
		Secret:    []byte(cfg.JWTSecret),
		Issuer:    cfg.Issuer,
		Audience:  cfg.Audience,
		ClockSkew: cfg.ClockSkew,
		Logger:    logger,
	})
}

// mintToken signs an HS256 token that a server with cfg accepts.
func mintToken(cfg config, sub string, ttl time.Duration) (string, error) {
	return mintTokenAt(cfg, sub, ttl, time.Now())
}

func mintTokenAt(cfg config, sub string, ttl time.Duration, now time.Time) (string, error) {
	return auth.MintHS256([]byte(cfg.JWTSecret), auth.TokenRequest{
		Subject:  sub,
		TTL:      ttl,
		Issuer:   cfg.Issuer,
		Audience: cfg.Audience,
		Now:      now,
	})
}
