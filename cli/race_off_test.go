//go:build !race

package cli_test

// raceDetector says whether this test binary was built with -race.
const raceDetector = false
