package console

import (
	"errors"
	"net/http"

	"gridbot/core"
)

// The choice of channel (通知走微信 / 通知走企业微信 on the console): which of
// their channels a staff member's notices try first, the other staying the
// fallback. A member sets their own; the system administrator sets it for
// anyone whose account they may change.

const (
	msgChannelUnknown = "没有这个通知渠道"
	msgChannelUnbound = "该人员还没有绑定这个渠道，请先发绑定码让其绑定"
)

// channelNames are the channels as staff call them.
var channelNames = map[core.Channel]string{core.ChannelWeChat: "微信", core.ChannelWeCom: "企业微信"}

// channelView is one channel a member may be reached on, without the
// address itself.
type channelView struct {
	Channel core.Channel `json:"channel"`
	Name    string       `json:"name"`
	Bound   bool         `json:"bound"`
}

// channelsView is a member's channels and the one tried first.
type channelsView struct {
	Prefers  core.Channel  `json:"prefers"`
	First    core.Channel  `json:"first"` // what is tried first today: the choice, else the order
	Channels []channelView `json:"channels"`
}

// channelRoutes mounts the choice of channel.
func (s *Server) channelRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/me/channel", s.authed(s.handleMyChannel))
	mux.Handle("POST /api/me/channel", s.authed(s.audited(core.AuditAdmin, "", s.handleSetMyChannel)))
	mux.Handle("GET /api/staff/channels", s.authed(s.dutyOnly(core.DutyStaff, s.handleStaffChannels)))
	mux.Handle("POST /api/staff/{id}/channel", s.authed(s.dutyOnly(core.DutyStaff, s.audited(core.AuditAdmin, "id", s.handleStaffChannel))))
}

// channelsOf reads id's channels.
func (s *Server) channelsOf(r *http.Request, id string) (channelsView, error) {
	v := channelsView{Channels: []channelView{}}
	if s.Roster == nil {
		return v, nil
	}
	order := s.Roster.Channels
	if len(order) == 0 {
		order = []core.Channel{core.ChannelWeChat}
	}
	p, err := s.Roster.Prefers(r.Context(), id)
	if err != nil {
		return v, err
	}
	v.Prefers = p
	addrs, err := s.Roster.Addresses(r.Context(), id)
	if err != nil {
		return v, err
	}
	if len(addrs) > 0 {
		v.First = addrs[0].Channel
	}
	for _, ch := range order {
		a, err := s.Roster.Address(r.Context(), id, ch)
		if err != nil {
			return v, err
		}
		v.Channels = append(v.Channels, channelView{Channel: ch, Name: channelNames[ch], Bound: a != ""})
	}
	return v, nil
}

func (s *Server) handleMyChannel(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	v, err := s.channelsOf(r, staff.ID)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console channel", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleSetMyChannel(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	s.setChannel(w, r, staff, staff.ID)
}

func (s *Server) handleStaffChannel(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	id := r.PathValue("id")
	if !s.permitChange(w, staff, id, "") {
		return
	}
	s.setChannel(w, r, staff, id)
}

// handleStaffChannels lists every member's channels for the
// administration page.
func (s *Server) handleStaffChannels(w http.ResponseWriter, r *http.Request, _ *core.Staff) {
	town := s.Town.Town()
	out := make(map[string]channelsView, len(town.Staff))
	for i := range town.Staff {
		v, err := s.channelsOf(r, town.Staff[i].ID)
		if err != nil {
			s.log().ErrorContext(r.Context(), "console channels", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		out[town.Staff[i].ID] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": out})
}

func (s *Server) setChannel(w http.ResponseWriter, r *http.Request, staff *core.Staff, id string) {
	var req struct {
		Channel core.Channel `json:"channel"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if s.Roster == nil || channelNames[req.Channel] == "" {
		writeError(w, http.StatusBadRequest, msgChannelUnknown)
		return
	}
	noteAudit(r, id, "通知先发到"+channelNames[req.Channel])
	err := s.Roster.SetPrefers(r.Context(), id, req.Channel)
	switch {
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, msgStaffNotFound)
		return
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, msgChannelUnbound)
		return
	case err != nil:
		s.log().ErrorContext(r.Context(), "console set channel", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	s.log().InfoContext(r.Context(), "console channel chosen", "staff", staff.ID, "target", id, "channel", string(req.Channel))
	v, err := s.channelsOf(r, id)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console channel", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
