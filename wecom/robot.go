package wecom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/core"
)

// RobotPerMinute is a group robot's bound on messages a minute (消息推送).
const RobotPerMinute = 20

// MaxMarkdown is the most bytes a robot's markdown message may hold.
const MaxMarkdown = 4096

// ErrRobotBusy means the robot's messages for this minute are spent; what
// was not posted waits for the next minute.
var ErrRobotBusy = errors.New("wecom robot: this minute's messages are spent")

// Robot posts to group robots' webhooks, each within RobotPerMinute.
type Robot struct {
	// Client makes the calls; nil means one with DefaultAPITimeout.
	Client *http.Client
	// Counts keeps each robot's posts where every instance counts (the
	// shared store).
	Counts Counts
	Now    func() time.Time
}

// robotID names a webhook in counts and marks without its key.
func robotID(webhook string) string {
	sum := sha256.Sum256([]byte(webhook))
	return hex.EncodeToString(sum[:8])
}

// Post posts markdown (at most MaxMarkdown bytes) to the robot at webhook.
// ErrRobotBusy when the minute's messages are spent. Errors never hold the
// webhook, whose key is a secret.
func (r *Robot) Post(ctx context.Context, webhook, markdown string) error {
	if len(markdown) > MaxMarkdown {
		return fmt.Errorf("wecom robot: %d bytes of markdown: %w", len(markdown), core.ErrInvalid)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ok, err := spend(ctx, r.Counts, "wecom:robot:"+robotID(webhook), RobotPerMinute, now())
	if err != nil {
		return fmt.Errorf("wecom robot: %w", err)
	}
	if !ok {
		return ErrRobotBusy
	}
	body, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": markdown}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return errors.New("wecom robot: bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultAPITimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.New("wecom robot: the webhook did not answer")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var res util.CommonError
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &res) != nil {
		return fmt.Errorf("wecom robot: http status %d", resp.StatusCode)
	}
	switch res.ErrCode {
	case 0:
		return nil
	case 45009:
		return ErrRobotBusy
	}
	return fmt.Errorf("wecom robot: %w", pushError(int(res.ErrCode), res.ErrMsg))
}
