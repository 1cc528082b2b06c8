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
// value (valuecodec.Event), become the list's one element, written
//
//	P<count>:<packed>
//
// Ten events packed one by one take about 560 bytes, each a frame with
// its own header; packed together about 320. The list stays a list, so
// that a reopened case appends after the packed head: an event's position
// in the log (what the sequence index says, events.go) counts the head's
// entries, and the write script adds count-1 to the position RPUSH
// gives when the head is packed. Every reader expands the head first
// (logEntries). A write that leaves the case closed packs its log again
// (packLog), only over the log it read.

// packedHead starts a packed head element: no entry starts with it (an
// entry is "[" or, written before, "{").
const packedHead = 'P'

// packedLua is the write script's part that counts a packed head: shift
// is what the position RPUSH gives is short of the event's position.
const packedLua = `
local shift = 0
do
  local head = redis.call('LINDEX', KEYS[2], 0)
  if head and string.byte(head, 1) == 80 then shift = tonumber(string.match(head, '^P(%d+):')) - 1 end
end
`

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

// packLogScript replaces a log by its packed head only if the log is still
// what was read. KEYS 1 the log; ARGV 1 the head, then the elements read.
var packLogScript = vk.NewLuaScript(`
local cur = redis.call('LRANGE', KEYS[1], 0, -1)
if #cur ~= #ARGV - 1 then return 0 end
for i = 1, #cur do if cur[i] ~= ARGV[i + 1] then return 0 end end
redis.call('DEL', KEYS[1])
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
`)

// packLog packs case number's log into one head, if it is more than one
// element. A write since (the log changed) leaves it as it is: that
// write packs it again if it leaves the case closed.
func (s *Store) packLog(ctx context.Context, number string) error {
	key := s.caseLogKey(number)
	raws, err := s.client.Do(ctx, s.client.B().Lrange().Key(key).Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil || len(raws) < 2 {
		return err
	}
	entries, err := logEntries(raws)
	if err != nil {
		return fmt.Errorf("pack log of %s: %w", number, err)
	}
	head, err := packEntries(entries)
	if err != nil {
		return fmt.Errorf("pack log of %s: %w", number, err)
	}
	return packLogScript.Exec(ctx, s.client, []string{key}, append([]string{head}, raws...)).Error()
}
