// Package output is how commands' output reaches a person when several
// hosts or tasks run at once. Package task decides what happens; this
// package decides how it looks.
//
// A Console, made by the CLI from its streams and Options (prefixed,
// grouped or JSON; colour per stream; a progress line), hands each host
// a pair of writers (Host), each concurrent task a writer of whole lines
// (Lines), and prints the summary of a run on several hosts (Summary).
// It holds gotask's one colour scheme (Style, Paint).
//
// Clean makes one line of a host's output safe to show after that
// host's prefix: carriage returns, cursor movement, window-title and
// other terminal control sequences cannot move text onto another host's
// line or rewrite earlier lines, and colour cannot leak into the next
// line.
package output
