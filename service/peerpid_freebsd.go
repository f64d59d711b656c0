package service

// peerPid is not known on FreeBSD: down then takes the supervisor's pid
// from its answer.
func peerPid(int) int { return 0 }
