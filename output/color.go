package output

// Style is an SGR escape sequence. Styles concatenate: Red + Bold.
type Style string

// gotask's one colour scheme: what its own messages and the host
// prefixes are painted with.
const (
	Bold  Style = "\x1b[1m"
	Red   Style = "\x1b[31m"
	Green Style = "\x1b[32m"
	Cyan  Style = "\x1b[36m"
)

// hostStyles colour the host prefixes, one per host by a hash of its
// name, so that a host keeps its colour from run to run.
var hostStyles = [...]Style{"\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[32m", "\x1b[96m", "\x1b[93m", "\x1b[95m"}

// Paint returns text in style s followed by a reset when on, else text
// as it is.
func Paint(on bool, s Style, text string) string {
	if !on {
		return text
	}
	return string(s) + text + reset
}

// hostStyle is the colour of host's prefix.
func hostStyle(host string) Style {
	h := 0
	for i := 0; i < len(host); i++ {
		h = h*31 + int(host[i])
	}
	if h < 0 {
		h = -h
	}
	return hostStyles[h%len(hostStyles)]
}
