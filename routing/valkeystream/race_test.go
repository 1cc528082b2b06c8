//go:build race

package valkeystream

// raceEnabled tells whether the tests run under the race detector.
const raceEnabled = true
