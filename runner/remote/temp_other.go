//go:build !unix

package remote

// processAlive cannot tell here: every process counts as alive, and
// temporary files are removed by age only.
func processAlive(int) bool { return true }
