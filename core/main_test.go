package core_test

import (
	"testing"

	"gridbot/internal/valkeytest"
)

// TestMain gives the tests that run on both stores a Valkey server.
func TestMain(m *testing.M) { valkeytest.Main(m) }
