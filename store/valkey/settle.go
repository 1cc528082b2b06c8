package valkey

import (
	"context"
	"fmt"
	"strings"
)

// SettleStream marks every entry now in the transport's stream as handled:
// each consumer group moves past them and the entries are trimmed. It is
// for `gridbot fill`, whose history is past and must not be announced (no
// notices for cases filed years ago); nothing else should call it.
func (s *Store) SettleStream(ctx context.Context) error {
	groups, err := s.client.Do(ctx, s.client.B().XinfoGroups().Key(s.stream).Build()).ToArray()
	if err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("settle stream: %w", err)
	}
	for _, g := range groups {
		m, err := g.AsStrMap()
		if err != nil {
			return fmt.Errorf("settle stream: %w", err)
		}
		if err := s.client.Do(ctx, s.client.B().XgroupSetid().Key(s.stream).Group(m["name"]).Id("$").Build()).Error(); err != nil {
			return fmt.Errorf("settle stream: group %s: %w", m["name"], err)
		}
	}
	if err := s.client.Do(ctx, s.client.B().Xtrim().Key(s.stream).Maxlen().Threshold("0").Build()).Error(); err != nil {
		return fmt.Errorf("settle stream: %w", err)
	}
	return nil
}

// isNoSuchKey reports the server's answer to XINFO on a stream that does
// not exist yet.
func isNoSuchKey(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no such key")
}
