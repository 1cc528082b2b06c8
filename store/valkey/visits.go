package valkey

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The visits to linked households (core/linked.go), each written with its
// counter by one script:
//
//	P{gv}:visit:<id>              string  the visit as JSON
//	P{gv}:visit-keys              hash    <cadre>\x1f<key> → the visit's id (a retry records one visit)
//	P{gv}:household-visits:<id>   zset    the household's visit ids, scored by their time in ms
//	P{gv}:visit-counts            hash    <cell key> → the cell's count
//
// A town's cadres visit some thousands of times a year: the keys share a
// hash tag, so the script is atomic on a cluster, on one shard.

func (s *Store) visitKey(id string) string           { return s.prefix + "{gv}:visit:" + id }
func (s *Store) visitKeysKey() string                { return s.prefix + "{gv}:visit-keys" }
func (s *Store) householdVisitsKey(hh string) string { return s.prefix + "{gv}:household-visits:" + hh }
func (s *Store) visitCountsKey() string              { return s.prefix + "{gv}:visit-counts" }

// addVisitScript stores a visit unless its key was stored: KEYS 1 the
// keys hash, 2 the visit, 3 the household's zset, 4 the counts; ARGV 1 the
// dedupe field, 2 the id, 3 the JSON, 4 the score, 5 the cell. It returns
// "" when it stored the visit, else the id stored before.
var addVisitScript = vk.NewLuaScript(`
local was = redis.call('HGET', KEYS[1], ARGV[1])
if was then return was end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
return ''
`)

// AddVisit implements core.VisitStore.
func (s *Store) AddVisit(ctx context.Context, v core.Visit) (core.Visit, bool, error) {
	if v.ID == "" || v.Household == "" || v.Cadre == "" || v.Key == "" {
		return core.Visit{}, false, fmt.Errorf("add visit: %w", core.ErrInvalid)
	}
	raw, err := json.Marshal(v)
	if err == nil && s.sealer != nil {
		// What a cadre found is personal data (issue 20): sealed whole.
		raw, err = s.sealer.Seal(raw)
	}
	if err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: %w", err)
	}
	was, err := addVisitScript.Exec(ctx, s.client,
		[]string{s.visitKeysKey(), s.visitKey(v.ID), s.householdVisitsKey(v.Household), s.visitCountsKey()},
		[]string{v.Cadre + "\x1f" + v.Key, v.ID, string(raw), strconv.FormatInt(v.At.UnixMilli(), 10), v.CellOf().Key()}).ToString()
	if err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: %w", err)
	}
	if was == "" {
		return v, true, nil
	}
	b, err := s.client.Do(ctx, s.client.B().Get().Key(s.visitKey(was)).Build()).AsBytes()
	if err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: the one stored before: %w", err)
	}
	var out core.Visit
	if b, err = core.OpenBytes(s.sealer, b); err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: the one stored before: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: the one stored before: %w", err)
	}
	return out, false, nil
}

// HouseholdVisits implements core.VisitStore.
func (s *Store) HouseholdVisits(ctx context.Context, household string, limit int) ([]core.Visit, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.householdVisitsKey(household)).Min("+inf").Max("-inf").
		Byscore().Rev().Limit(0, int64(limit)).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("household visits: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.visitKey(id)
	}
	vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
	if err != nil {
		return nil, fmt.Errorf("household visits: %w", err)
	}
	out := make([]core.Visit, 0, len(vals))
	for i, val := range vals {
		b, err := val.AsBytes()
		if vk.IsValkeyNil(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("household visits: %w", err)
		}
		if b, err = core.OpenBytes(s.sealer, b); err != nil {
			return nil, fmt.Errorf("visit %s: %w", ids[i], err)
		}
		var v core.Visit
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("visit %s: %w", ids[i], err)
		}
		out = append(out, v)
	}
	return out, nil
}

// VisitCounts implements core.VisitStore.
func (s *Store) VisitCounts(ctx context.Context) (map[core.VisitCell]int, error) {
	m, err := s.client.Do(ctx, s.client.B().Hgetall().Key(s.visitCountsKey()).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("visit counts: %w", err)
	}
	out := make(map[core.VisitCell]int, len(m))
	for k, v := range m {
		cell, ok := core.ParseVisitCell(k)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("visit count %q: %w", k, err)
		}
		out[cell] = n
	}
	return out, nil
}
