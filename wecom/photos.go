package wecom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gridbot/core"
)

// Uploader puts a photo into WeChat's temporary media, so that a
// customer-service message can carry it to a resident;
// bot.MediaUploader implements it.
type Uploader interface {
	Upload(ctx context.Context, kind, contentType string, data []byte) (mediaID string, err error)
}

// Photos carries the photos staff send in the app's chat to WeChat, where
// the residents are: a WeCom media ID means nothing to WeChat. Each photo is
// fetched from WeCom, uploaded to WeChat's temporary media, and kept with
// its case in the media store (WeCom's and WeChat's copies both expire after
// three days). The relay then names the WeChat media ID, so from there on
// the photo goes to the resident exactly as one sent from WeChat does.
// It implements dialogs.PhotoBridge.
type Photos struct {
	App    *App
	WeChat Uploader
	// Media keeps the photo with the case it is relayed to.
	Media *core.MediaStore
	Now   func() time.Time
}

// Bridge returns the photo of m as WeChat knows it. A photo sent from
// WeChat is returned as it is. number is the case the photo is relayed to,
// under which it is kept; "" (a photo waiting for a patrol report) keeps it
// when the report is filed, as a photo sent from WeChat is kept. An error
// wrapping core.ErrInvalid means sending it again cannot help (WeCom no
// longer has it, or it is too big).
func (p *Photos) Bridge(ctx context.Context, m core.Message, number string) (core.Media, error) {
	from := core.ParseAddress(m.From)
	if from.Channel != core.ChannelWeCom {
		return core.Media{MediaID: m.MediaID, URL: m.PicURL}, nil
	}
	max := core.DefaultMaxMediaBytes
	if p.Media != nil && p.Media.MaxBytes > 0 {
		max = p.Media.MaxBytes
	}
	ctype, data, err := p.App.FetchMedia(ctx, m.MediaID, max)
	if err != nil {
		return core.Media{}, err
	}
	id, err := p.WeChat.Upload(ctx, core.MediaImage, ctype, data)
	if err != nil {
		return core.Media{}, fmt.Errorf("wecom photo to wechat: %w", err)
	}
	if number != "" && p.Media != nil {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		err := p.Media.Put(ctx, core.MediaFile{ID: id, Case: number, Kind: core.MediaImage, ContentType: ctype, Data: data, At: now()})
		if err != nil && !errors.Is(err, core.ErrInvalid) {
			return core.Media{}, fmt.Errorf("wecom photo: %w", err)
		}
	}
	return core.Media{MediaID: id}, nil
}
