package wxpages

import "net/http"

// ReaderID is the openid of the request's reader (their web-authorised
// session), or false: a city deployment sends the report form to the
// reader's own town by it.
func (s *Server) ReaderID(r *http.Request) (string, bool) {
	sess, err := s.readSession(r.Context(), r)
	if err != nil || sess == nil {
		return "", false
	}
	return sess.OpenID, true
}
