package responder

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
)

// DefaultWindow is the window a Responder keeps when its Window is zero.
const DefaultWindow = 4096

// ErrNotAccepted is returned (wrapped) by a FailingResponder whose Err is
// nil when its Sentinel shows that an answer was not accepted.
var ErrNotAccepted = errors.New("answer not accepted")

// A Responder answers a prompt: each time Pattern matches new output, it
// writes Response to the command's standard input.
//
// Each occurrence is answered exactly once, also when it arrives split
// across chunks at any byte; output that a match has consumed is never
// matched again, and a prompt that appears again later is answered again.
// Each stream is matched on its own.
//
// Cost is linear in the output: between chunks a Responder keeps, of
// each stream, only the tail that a match could still begin with (at
// most Window bytes), and it scans only that tail and the new chunk.
//
// The Pattern sees a window of the output, not all of it, so it should
// match the prompt itself: anchors such as ^, $ and \b see the edges of
// that window, and a match longer than Window may be missed. Matches are
// found as the output arrives, so a pattern that could match more if more
// output came (a trailing .* or +) answers as soon as it matches at all.
//
// A Responder is safe for concurrent use by the goroutines of one
// command's streams. It remembers what it has seen, so use a new one for
// each command. Its fields must not change after the first call to Watch.
type Responder struct {
	// Pattern matches the prompt. It must not be nil.
	Pattern *regexp.Regexp

	// Response is written to standard input once per match. It usually
	// ends in "\n".
	Response string

	// Window bounds how many bytes of each stream are kept to find a
	// prompt split across chunks; it must be at least the length of the
	// longest prompt. Zero (or less) means DefaultWindow.
	Window int

	// answer, when set, replaces Response; it is called outside the lock,
	// once per Watch call that has something to answer.
	answer func() (string, error)

	mu       sync.Mutex
	plans    [2]*plan // prompt and sentinel, made on first use
	streams  map[Stream]*streamState
	answered bool  // some prompt was answered (FailingResponder)
	err      error // the failure, once a FailingResponder has failed
}

// streamState is what a Responder knows about one stream.
type streamState struct {
	prompt   *matcher
	sentinel *matcher // nil unless failing
	// failFrom is the stream offset from which a sentinel match counts:
	// the end of the first answered prompt on this stream, or what this
	// stream had received when the first answer was written elsewhere.
	failFrom int64
}

// Watch answers every new match of r.Pattern in chunk. It implements
// Watcher. It returns an error only when it cannot answer: Pattern is
// nil, stdin is nil, or writing to stdin fails.
func (r *Responder) Watch(stream Stream, chunk []byte, stdin io.Writer) error {
	return r.watch(stream, chunk, stdin, nil, nil)
}

// A FailingResponder answers like its Responder, but once it has answered
// it also watches the output that follows for Sentinel, which shows that
// the answer was not accepted (a "Sorry, try again", or the same prompt
// asked again). When Sentinel appears, Watch returns the failure at once,
// which stops the command, instead of answering again and again.
//
// Sentinel output from before the first answer is ignored. When a prompt
// and the Sentinel end at the same byte (Sentinel may be Pattern itself),
// the Sentinel wins and the prompt is not answered. After failing, every
// call to Watch returns the same error and answers nothing.
type FailingResponder struct {
	Responder

	// Sentinel matches output that shows an answer was refused. It must
	// not be nil.
	Sentinel *regexp.Regexp

	// Err is returned, as it is, when Sentinel appears; callers can find
	// it with errors.Is or errors.As. Nil means an error wrapping
	// ErrNotAccepted that names both patterns.
	Err error
}

// Watch answers every new match of f.Pattern in chunk, unless Sentinel
// has appeared since the first answer, in which case it returns the
// failure (see FailingResponder). It implements Watcher.
func (f *FailingResponder) Watch(stream Stream, chunk []byte, stdin io.Writer) error {
	if f.Sentinel == nil {
		return errors.New("failing responder has no sentinel pattern")
	}
	fail := f.Err
	if fail == nil {
		fail = fmt.Errorf("%w: %q appeared after answering %q", ErrNotAccepted, f.Sentinel, f.Pattern)
	}
	return f.Responder.watch(stream, chunk, stdin, f.Sentinel, fail)
}

// watch is Watch for both responders: with a nil sentinel it answers
// every match; otherwise it fails with fail once sentinel appears after
// the first answer.
func (r *Responder) watch(stream Stream, chunk []byte, stdin io.Writer, sentinel *regexp.Regexp, fail error) error {
	if r.Pattern == nil {
		return errors.New("responder has no pattern")
	}
	answers, err := r.scan(stream, chunk, sentinel, fail)
	if answers > 0 {
		if werr := r.respond(answers, stdin); werr != nil {
			return werr
		}
	}
	return err
}

// scan feeds chunk to the stream's matchers and decides, under the lock,
// how many answers to write and whether to fail.
func (r *Responder) scan(stream Stream, chunk []byte, sentinel *regexp.Regexp, fail error) (answers int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	st := r.state(stream, sentinel)
	prompts := st.prompt.feed(chunk, nil)
	if sentinel == nil {
		return len(prompts), nil
	}
	sentinels := st.sentinel.feed(chunk, nil)

	// refused reports whether a sentinel that counts ends by end.
	refused := func(end int64) bool {
		if !r.answered {
			return false
		}
		for _, s := range sentinels {
			if s[0] >= st.failFrom && s[1] <= end {
				return true
			}
		}
		return false
	}
	for _, p := range prompts {
		if refused(p[1]) {
			r.err = fail
			return answers, fail
		}
		answers++
		if !r.answered {
			r.answered = true
			for _, other := range r.streams {
				other.failFrom = other.prompt.received()
			}
			st.failFrom = p[1]
		}
	}
	if refused(st.prompt.received()) {
		r.err = fail
		return answers, fail
	}
	return answers, nil
}

// state returns the state of stream, creating it on first use.
func (r *Responder) state(stream Stream, sentinel *regexp.Regexp) *streamState {
	if st, ok := r.streams[stream]; ok {
		return st
	}
	if r.streams == nil {
		r.streams = make(map[Stream]*streamState, 2)
	}
	window := r.Window
	if window <= 0 {
		window = DefaultWindow
	}
	if r.plans[0] == nil {
		r.plans[0] = newPlan(r.Pattern, window)
	}
	st := &streamState{prompt: &matcher{plan: r.plans[0]}}
	if sentinel != nil {
		switch {
		case sentinel == r.Pattern:
			r.plans[1] = r.plans[0]
		case r.plans[1] == nil:
			r.plans[1] = newPlan(sentinel, window)
		}
		st.sentinel = &matcher{plan: r.plans[1]}
	}
	r.streams[stream] = st
	return st
}

// respond writes n answers to stdin.
func (r *Responder) respond(n int, stdin io.Writer) error {
	if stdin == nil {
		return fmt.Errorf("cannot answer prompt %q: no standard input", r.Pattern)
	}
	response := r.Response
	if r.answer != nil {
		var err error
		if response, err = r.answer(); err != nil {
			return err
		}
	}
	for range n {
		if _, err := io.WriteString(stdin, response); err != nil {
			return fmt.Errorf("answer prompt %q: %w", r.Pattern, err)
		}
	}
	return nil
}
