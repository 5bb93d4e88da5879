package storage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// A page token is the cursor (the sort key of the last task of a page),
// signed with HMAC-SHA256 over the cursor and what the token is bound to:
// the user, the filter and the order. A token that was altered, cut short,
// issued to another user or for another filter or order fails the check.
// Change cursors (changes.go) are sealed the same way under another label.
// The key lives in the database, so every replica shares it and tokens
// survive restarts.

// cursor is where a page ends: the sort key of its last task.
type cursor struct {
	Time     int64  `json:"t,omitempty"` // create, update or due time, µs since the epoch
	NoDue    bool   `json:"n,omitempty"` // DUE_TIME_ASC: the task has no due time
	Priority int16  `json:"p,omitempty"`
	Title    string `json:"s,omitempty"`
	ID       string `json:"i"`
}

func (c cursor) time() dbTime { return dbTime{T: time.UnixMicro(c.Time).UTC(), Valid: true} }

// tokenBinding is what a token is valid for.
type tokenBinding struct {
	userID string
	filter listFilter
	order  tasks.TaskOrder
}

const (
	tokenVersion = 1
	tokenMACLen  = 16 // a truncated HMAC-SHA256; 128 bits are plenty against forgery
	pageKeyName  = "page_token"
	pageKeyLen   = 32
)

// tokenEncoding is strict so that no two strings decode to the same token.
var tokenEncoding = base64.RawURLEncoding.Strict()

// pageKey signs and checks page tokens and change cursors.
type pageKey []byte

// mac is the truncated HMAC of payload under label (what kind of token it
// is) and bound (what it is valid for), each part length-prefixed so that
// no two sets of parts sign alike.
func (k pageKey) mac(label string, bound [][]byte, payload []byte) []byte {
	h := hmac.New(sha256.New, k)
	parts := append([][]byte{[]byte(label), {tokenVersion}}, bound...)
	for _, part := range append(parts, payload) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		h.Write(part)
	}
	return h.Sum(nil)[:tokenMACLen]
}

// sealBytes returns the token that carries payload.
func (k pageKey) sealBytes(label string, bound [][]byte, payload []byte) string {
	raw := append([]byte{tokenVersion}, k.mac(label, bound, payload)...)
	return tokenEncoding.EncodeToString(append(raw, payload...))
}

// openBytes returns the payload of a token sealBytes made with the same
// label and bound, or false.
func (k pageKey) openBytes(token, label string, bound [][]byte) ([]byte, bool) {
	raw, err := tokenEncoding.DecodeString(token)
	// The decoder skips newlines; the token must be exactly one we issued.
	if err != nil || tokenEncoding.EncodeToString(raw) != token || len(raw) < 1+tokenMACLen || raw[0] != tokenVersion {
		return nil, false
	}
	mac, payload := raw[1:1+tokenMACLen], raw[1+tokenMACLen:]
	return payload, hmac.Equal(mac, k.mac(label, bound, payload))
}

const pageTokenLabel = "tasks page token"

func (b tokenBinding) parts() [][]byte {
	filter, _ := json.Marshal(b.filter)
	return [][]byte{[]byte(b.userID), filter, binary.BigEndian.AppendUint32(nil, uint32(b.order))}
}

// seal returns the token that continues after c.
func (k pageKey) seal(c cursor, b tokenBinding) string {
	payload, _ := json.Marshal(c)
	return k.sealBytes(pageTokenLabel, b.parts(), payload)
}

// open returns the cursor of a token, or an Invalid error.
func (k pageKey) open(token string, b tokenBinding) (cursor, error) {
	bad := tasks.FieldErrorf("page_token", "invalid page token")
	payload, ok := k.openBytes(token, pageTokenLabel, b.parts())
	if !ok {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(payload, &c); err != nil || uuid.Validate(c.ID) != nil {
		return cursor{}, bad
	}
	return c, nil
}

// keyRow is a row of storage_keys: secrets every replica shares.
type keyRow struct {
	bun.BaseModel `bun:"table:storage_keys,alias:k"`

	Name string `bun:"name,pk"`
	Key  []byte `bun:"key"`
}

// pageKey returns the page token key, creating it on first use: each
// replica offers a random key, the first insert wins, and everyone reads
// the winner.
func (s *Store) pageKey(ctx context.Context) (pageKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	offer := make([]byte, pageKeyLen)
	if _, err := rand.Read(offer); err != nil {
		return nil, tasks.WrapError(tasks.KindInternal, err, msgInternal)
	}
	var row keyRow
	err := s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&keyRow{Name: pageKeyName, Key: offer}).
			On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		return tx.NewSelect().Model(&row).Where("k.name = ?", pageKeyName).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(row.Key) < pageKeyLen {
		return nil, tasks.Errorf(tasks.KindInternal, "page token key too short")
	}
	s.key = row.Key
	return s.key, nil
}
