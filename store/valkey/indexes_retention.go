package valkey

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The retention index (core.RetentionClock), kept by writeScript in the
// write that changes the case:
//
//	P{gb}:retain:<day>  a sorted set of the numbers of the closed cases still holding personal data
//	                    whose clock started that day (UTC), scored by core.RetentionMicros of it
//	P{gb}:retaindays    the days that have such a set (members, score 0, in day order)
//
// A day's set holds a few dozen cases, small enough to stay listpack
// encoded (some 20 bytes a case, where one sorted set of every case would
// cost about 100); a retention run reads the days up to its cutoff and
// their cases due, oldest first, and the write that erases a case takes it
// out (and the day, once empty). A ledger written before the index is
// indexed once when a store opens it (buildRetention).

func (s *Store) retainKey(day string) string { return s.ledger + "retain:" + day }
func (s *Store) retainDaysKey() string       { return s.ledger + "retaindays" }
func (s *Store) retainedKey() string         { return s.ledger + "retained" }

// retentionOf is c's day and score in the retention index; ok is false
// when the policy does not hold c.
func retentionOf(c *core.Case) (day, score string, ok bool) {
	if c == nil {
		return "", "", false
	}
	at, ok := core.RetentionClock(c)
	if !ok {
		return "", "", false
	}
	return at.UTC().Format("20060102"), strconv.FormatInt(core.RetentionMicros(at), 10), true
}

// retentionMoves are writeScript's keys (the days set, the day left, the
// day joined) and arguments (the day c leaves or "", the day it joins or
// "", its score) for moving c's entry from was's (nil on create).
func (s *Store) retentionMoves(was, c *core.Case) (keys, args []string) {
	wasDay, wasScore, wasIn := retentionOf(was)
	day, score, in := retentionOf(c)
	leave, join := "", ""
	switch {
	case wasIn && in && wasDay == day && wasScore == score:
	case wasIn && in && wasDay == day:
		join = day // a new score in the same set
	default:
		if wasIn {
			leave = wasDay
		}
		if in {
			join = day
		}
	}
	leaveKey, joinKey := s.retainKey(wasDay), s.retainKey(day)
	if !wasIn {
		leaveKey = joinKey
	}
	if !in {
		joinKey = leaveKey
	}
	return []string{s.retainDaysKey(), leaveKey, joinKey}, []string{leave, join, score}
}

// writeRetention is writeScript's part that moves the case's entry: KEYS
// [rd] the days set, [rd+1] the day left, [rd+2] the day joined; ARGV
// [ra] the day left or ”, [ra+1] the day joined or ”, [ra+2] the score.
const writeRetention = `
if ARGV[ra] ~= '' then
  redis.call('ZREM', KEYS[rd + 1], ARGV[2])
  if redis.call('EXISTS', KEYS[rd + 1]) == 0 then redis.call('ZREM', KEYS[rd], ARGV[ra]) end
end
if ARGV[ra + 1] ~= '' then
  redis.call('ZADD', KEYS[rd + 2], ARGV[ra + 2], ARGV[2])
  redis.call('ZADD', KEYS[rd], 0, ARGV[ra + 1])
end
`

// retentionDays is how many days RetentionDue reads in one round trip.
const retentionDays = 32

// RetentionDue implements core.RetentionIndex.
func (s *Store) RetentionDue(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	last := "[" + cutoff.UTC().Format("20060102")
	end := "(" + strconv.FormatInt(core.RetentionEnd(cutoff), 10)
	var out []string
	lower := "-"
	for len(out) < limit {
		days, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.retainDaysKey()).Min(lower).Max(last).Bylex().
			Limit(0, retentionDays).Build()).AsStrSlice()
		if err != nil {
			return nil, fmt.Errorf("retention due: %w", err)
		}
		if len(days) == 0 {
			break
		}
		cmds := make(vk.Commands, len(days))
		for i, d := range days {
			cmds[i] = s.client.B().Zrange().Key(s.retainKey(d)).Min("-inf").Max(end).Byscore().
				Limit(0, int64(limit-len(out))).Build()
		}
		for i, r := range s.client.DoMulti(ctx, cmds...) {
			numbers, err := r.AsStrSlice()
			if err != nil {
				return nil, fmt.Errorf("retention due %s: %w", days[i], err)
			}
			out = append(out, numbers[:min(len(numbers), limit-len(out))]...)
		}
		if len(days) < retentionDays {
			break
		}
		lower = "(" + days[len(days)-1]
	}
	return out, nil
}

// retainScript puts one case of a ledger written before the retention
// index into it, if the case is still as it was read: KEYS 1 the case, 2
// the days set, 3 its day's set; ARGV 1 the SHA-1 of the value read, 2
// the number, 3 the day, 4 the score. A case written since was moved by
// that write, which knew its entry.
const retainScript = `
local raw = redis.call('GET', KEYS[1])
if not raw or redis.sha1hex(raw) ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return 1
`

// buildRetention indexes the closed cases still holding personal data of
// a ledger written before the retention index, once, a page at a time.
// Several instances doing it at once do the same idempotent work.
func (s *Store) buildRetention(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.retainedKey()).Build()).AsInt64()
	if err != nil || done == 1 {
		return err
	}
	script := vk.NewLuaScript(retainScript)
	err = s.eachCaseNumbers(ctx, 500, func(numbers []string) error {
		keys := make([]string, len(numbers))
		for i, n := range numbers {
			keys[i] = s.caseKey(n)
		}
		vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
		if err != nil {
			return err
		}
		var execs []vk.LuaExec
		for i := range vals {
			raw, err := vals[i].AsBytes()
			if vk.IsValkeyNil(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", numbers[i], err)
			}
			var c core.Case
			if _, err := s.unpackCase(raw, &c); err != nil {
				return fmt.Errorf("%s: %w", numbers[i], err)
			}
			day, score, ok := retentionOf(&c)
			if !ok {
				continue
			}
			sum := sha1.Sum(raw)
			execs = append(execs, vk.LuaExec{Keys: []string{keys[i], s.retainDaysKey(), s.retainKey(day)},
				Args: []string{hex.EncodeToString(sum[:]), numbers[i], day, score}})
		}
		for _, r := range script.ExecMulti(ctx, s.client, execs...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retention index: %w", err)
	}
	return s.client.Do(ctx, s.client.B().Set().Key(s.retainedKey()).Value("1").Build()).Error()
}
