// Package responder watches the output of running commands and answers
// their prompts, so that nobody has to type at them.
//
// A Watcher sees every chunk of a command's output and may write to its
// standard input; runners call it for each stream. A Responder is the
// plain Watcher: when its pattern matches, it writes its response. A
// FailingResponder also notices when an answer was refused, and stops the
// command instead of answering forever.
//
// Sudo runs commands under sudo: Sudo.Command wraps one command line for
// sudo, and the SudoCommand it returns is the Watcher that gives sudo a
// prompt with a fresh secret nonce and answers exactly that prompt, only
// until the wrapper's start marker shows that the command runs, with a
// password got from a PasswordFunc (FromEnv, FromCommand, a terminal
// prompt, combined with First and Once). A wrong password fails the
// command at once with an *AuthError.
//
// Secrets masks passwords, as "****", in output that is shown or kept,
// even when a password arrives split across writes.
//
// The package uses only the standard library.
package responder
