package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/privacy"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// keyspaceKey holds the key that names citizens in Redis keys when
// VENTANILLA_PSEUDONYM_KEY is not set (outside production): made at random
// by the first instance, so that every instance and every restart names a
// citizen alike.
const keyspaceKey = "ventanilla:keyspace"

// rekeyedKey records that a start has moved every record kept under the
// keys of an earlier version: later starts move stragglers (written by
// instances of the earlier version during a rolling upgrade) in the
// background instead of before serving.
const rekeyedKey = "ventanilla:rekeyed"

// redisStore is the session store on client. Its keys name a citizen by
// a keyed digest of their number, not by the number; records kept under
// the keys of earlier versions (the number in clear) are moved first, so
// that an upgrade forgets no one's language.
func redisStore(client redis.UniversalClient, getenv func(string) (string, bool), log *slog.Logger) (*sessions.Redis, error) {
	keys, err := storeKeys(client, getenv, log)
	if err != nil {
		return nil, err
	}
	store := sessions.NewRedis(client, sessions.RedisOptions{Tag: keys.KeyID})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	done, _ := client.Exists(ctx, rekeyedKey).Result()
	cancel()
	if done == 1 {
		go rekey(client, store, log)
	} else {
		rekey(client, store, log)
	}
	return store, nil
}

// rekey moves records kept under the keys of an earlier version, and
// records a complete pass.
func rekey(client redis.UniversalClient, store *sessions.Redis, log *slog.Logger) {
	start := time.Now()
	ctx := context.Background()
	moved, err := store.Rekey(ctx, keys.Retagged)
	switch {
	case err != nil:
		log.Error("records kept under the keys of an earlier version were not all moved; the next start moves the rest", "moved", moved, "err", err)
		return
	case moved > 0:
		log.Info("records kept under the keys of an earlier version moved to keys that name no one", "moved", moved, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := client.Set(ctx, rekeyedKey, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		log.Warn("a complete move of old keys not recorded; the next start moves before serving again", "err", err)
	}
}

// storeKeys returns what names citizens in Redis keys: the pseudonym key,
// or else the key kept in Redis under keyspaceKey.
func storeKeys(client redis.UniversalClient, getenv func(string) (string, bool), log *slog.Logger) (*privacy.Pseudonymizer, error) {
	if key, ok := getenv("VENTANILLA_PSEUDONYM_KEY"); ok && key != "" {
		p, err := privacy.NewPseudonymizer([]byte(key))
		if err != nil {
			return nil, fmt.Errorf("VENTANILLA_PSEUDONYM_KEY: %w", err)
		}
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	random := make([]byte, 48)
	_, _ = rand.Read(random)
	if err := client.SetNX(ctx, keyspaceKey, base64.StdEncoding.EncodeToString(random), 0).Err(); err != nil {
		return nil, fmt.Errorf("redis: keeping the key that names citizens in keys: %w", err)
	}
	key, err := client.Get(ctx, keyspaceKey).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: reading the key that names citizens in keys: %w", err)
	}
	log.Warn("VENTANILLA_PSEUDONYM_KEY is not set: Redis keys name citizens by a digest keyed with " + keyspaceKey + ", kept in Redis itself, which a copy of Redis reverses")
	return privacy.NewPseudonymizer([]byte(key))
}

// namedLimiter counts hops in Redis under the store's name of a number
// (sessions.Redis.Name), so that hop limits name no one either.
type namedLimiter struct {
	gateway.Limiter
	name func(string) string
}

func (l namedLimiter) Allow(ctx context.Context, key string) (bool, error) {
	return l.Limiter.Allow(ctx, l.name(key))
}
