package service

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Refusal is why a call was answered without being served.
type Refusal string

// The refusals. Each is counted by Refused under its own reason.
const (
	// RefusedShed: MAX_IN_FLIGHT calls were being served already
	// (LimitInFlight); answered Unavailable.
	RefusedShed Refusal = "shed"
	// RefusedRateLimited: the caller is over its own share or rate of
	// calls; answered ResourceExhausted (TOO_MANY_REQUESTS).
	RefusedRateLimited Refusal = "rate_limited"
	// RefusedUnauthenticated: no token, or one that is not valid
	// (Authenticate); answered Unauthenticated.
	RefusedUnauthenticated Refusal = "unauthenticated"
	// RefusedAuthUnavailable: the token could not be checked (the
	// issuer's keys cannot be had); answered Unavailable.
	RefusedAuthUnavailable Refusal = "auth_unavailable"
)

// refusals are all the Refusals, whose series exist from the start (at 0)
// so that rates and alerts over them work before the first refusal.
func refusals() []Refusal {
	return []Refusal{RefusedShed, RefusedRateLimited, RefusedUnauthenticated, RefusedAuthUnavailable}
}

// Refused counts a call answered without being served. Middleware that
// refuses calls before Connect sees them calls it, since those calls never
// reach otelconnect's count.
func (t *Telemetry) Refused(ctx context.Context, why Refusal) {
	if t == nil {
		return
	}
	t.refused.Add(ctx, 1, why.attribute())
}

func (r Refusal) attribute() metric.AddOption {
	return metric.WithAttributes(attribute.String("reason", string(r)))
}
