package valkey

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/store/valuecodec"
)

// A closed case's log is packed whole: its entries, each as the plain
// JSON array it stands for, joined by newlines and compressed as one
// value (valuecodec.Event), become one value, written
//
//	P<count>:<packed>
//
// Ten events packed one by one take about 560 bytes, each a frame with
// its own header; packed together about 320. The log's key then holds
// that value as a string: a list of one element costs redis-server 7.0 a
// quicklist and its node besides (472 bytes by MEMORY USAGE for a
// 253-byte head, where the string takes about 300). A reopened case's log
// becomes a list again, the packed value its head element (the write
// script turns it back before it appends), so that the events after it
// append: an event's position in the log (what the sequence index says,
// events.go) counts the head's entries, and the write script adds count-1
// to the position RPUSH gives when the head is packed. Every reader reads
// the log through logReadLua, whichever it is, and expands the head first
// (logEntries). A write that leaves the case closed packs its log again
// (packLog), only over the log it read. Logs packed before as a list of
// one head element read as they are, and are made strings when their case
// is next written closed.

// packedHead starts a packed head element: no entry starts with it (an
// entry is "[" or, written before, "{").
const packedHead = 'P'

// packedLua is the write script's part that turns a packed log back into
// a list and counts its head: shift is what the position RPUSH gives is
// short of the event's position.
const packedLua = `
local shift = 0
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local packed = redis.call('GET', KEYS[2])
  redis.call('DEL', KEYS[2])
  redis.call('RPUSH', KEYS[2], packed)
end
do
  local head = redis.call('LINDEX', KEYS[2], 0)
  if head and string.byte(head, 1) == 80 then shift = tonumber(string.match(head, '^P(%d+):')) - 1 end
end
`

// logReadLua reads a case's log, a list or a packed string: "l" and the
// list's elements up to ARGV[1] (-1: all), or "s" and the packed value.
const logReadLua = `
if redis.call('TYPE', KEYS[1]).ok == 'string' then return {'s', redis.call('GET', KEYS[1])} end
local out = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]))
table.insert(out, 1, 'l')
return out
`

// logRead is the command that reads case number's log up to position
// stop (-1: all of it), for logElements.
func (s *Store) logRead(number string, stop int64) vk.Completed {
	return s.client.B().Eval().Script(logReadLua).Numkeys(1).Key(s.caseLogKey(number)).
		Arg(strconv.FormatInt(stop, 10)).Build()
}

// logElements reads logRead's answer: the log's elements (a packed string
// is one element, its head) and whether the log is packed as a string.
func logElements(res vk.ValkeyResult) (raws []string, packed bool, err error) {
	out, err := res.AsStrSlice()
	if err != nil {
		return nil, false, err
	}
	if len(out) == 0 || out[0] != "l" && out[0] != "s" {
		return nil, false, fmt.Errorf("log read answered %.20q", out)
	}
	return out[1:], out[0] == "s", nil
}

// readLog reads case number's whole log, for logEntries.
func (s *Store) readLog(ctx context.Context, number string) ([]string, bool, error) {
	return logElements(s.client.Do(ctx, s.logRead(number, -1)))
}

// logEntries returns the log's entries, one an event, from its elements:
// a packed head expanded, the rest as they are.
func logEntries(raws []string) ([]string, error) {
	if len(raws) == 0 || raws[0] == "" || raws[0][0] != packedHead {
		return raws, nil
	}
	head, err := unpackEntries(raws[0])
	if err != nil {
		return nil, err
	}
	return append(head, raws[1:]...), nil
}

// unpackEntries expands a packed head into its entries.
func unpackEntries(raw string) ([]string, error) {
	colon := strings.IndexByte(raw, ':')
	if colon < 2 || raw[0] != packedHead {
		return nil, fmt.Errorf("packed log %.20q", raw)
	}
	n, err := strconv.Atoi(raw[1:colon])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("packed log count %q", raw[1:colon])
	}
	plain, err := valuecodec.Event.Unpack([]byte(raw[colon+1:]))
	if err != nil {
		return nil, fmt.Errorf("packed log: %w", err)
	}
	out := strings.Split(string(plain), "\n")
	if len(out) != n {
		return nil, fmt.Errorf("packed log of %d entries holds %d", n, len(out))
	}
	return out, nil
}

// packEntries packs entries (each as stored, or plain) into a head.
func packEntries(entries []string) (string, error) {
	var b bytes.Buffer
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		if strings.HasPrefix(e, "{") {
			b.WriteString(e) // an event object of the layout before; JSON has no raw newline
			continue
		}
		plain, err := valuecodec.ExpandEntry(e)
		if err != nil {
			return "", err
		}
		b.Write(plain)
	}
	packed, err := valuecodec.Event.Pack(b.Bytes())
	if err != nil {
		return "", err
	}
	return string(packedHead) + strconv.Itoa(len(entries)) + ":" + string(packed), nil
}

// packLogScript replaces a list log by its packed value, a string, only
// if the log is still the list that was read. KEYS 1 the log; ARGV 1 the
// packed value, then the elements read.
var packLogScript = vk.NewLuaScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'list' then return 0 end
local cur = redis.call('LRANGE', KEYS[1], 0, -1)
if #cur ~= #ARGV - 1 then return 0 end
for i = 1, #cur do if cur[i] ~= ARGV[i + 1] then return 0 end end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
return 1
`)

// packLog packs case number's log into one string, unless it is one
// already. A write since (the log changed) leaves it as it is: that write
// packs it again if it leaves the case closed.
func (s *Store) packLog(ctx context.Context, number string) error {
	raws, packed, err := s.readLog(ctx, number)
	if err != nil || packed || len(raws) == 0 {
		return err
	}
	head := raws[0]
	if len(raws) > 1 || head == "" || head[0] != packedHead {
		entries, err := logEntries(raws)
		if err != nil {
			return fmt.Errorf("pack log of %s: %w", number, err)
		}
		if head, err = packEntries(entries); err != nil {
			return fmt.Errorf("pack log of %s: %w", number, err)
		}
	}
	return packLogScript.Exec(ctx, s.client, []string{s.caseLogKey(number)}, append([]string{head}, raws...)).Error()
}
