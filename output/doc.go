// Package output is how commands' output reaches a person when several
// hosts or tasks write at once.
//
// Its first part is Clean, which makes one line of a host's output safe
// to show after that host's prefix: carriage returns, cursor movement,
// window-title and other terminal control sequences cannot move text
// onto another host's line or rewrite earlier lines, and colour cannot
// leak into the next line.
package output
