// Package responder watches the output of running commands and answers
// their prompts, so that nobody has to type at them.
//
// A Watcher sees every chunk of a command's output and may write to its
// standard input; runners call it for each stream. A Responder is the
// plain Watcher: when its pattern matches, it writes its response. A
// FailingResponder also notices when an answer was refused, and stops the
// command instead of answering forever.
//
// Sudo builds on them: Sudo.Command wraps a command line for sudo with a
// prompt that carries a random nonce, and Sudo.Watcher answers exactly
// that prompt with a password got from a PasswordFunc (FromEnv,
// FromCommand, a terminal prompt, combined with First and Once). A wrong
// password fails the command at once with an *AuthFailure.
//
// Secrets masks passwords, as "****", in output that is shown or kept,
// even when a password arrives split across writes.
//
// The package uses only the standard library.
package responder
