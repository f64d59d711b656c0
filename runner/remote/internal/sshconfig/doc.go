// Package sshconfig reads ssh_config files the way OpenSSH's ssh does;
// see ssh_config(5), and OpenSSH's readconf.c for the behaviour in the
// corners. Files are read and parsed once (Load), Include lines and all;
// each host is then evaluated against the parsed files (Config.Lookup),
// so that Host and Match blocks see the host's own alias, user and
// HostName as ssh does. What the values mean (defaults, tokens, key
// files) is package remote's business: this package only says which
// lines apply to a host. Nothing here runs at package init, and no
// regexp is used.
package sshconfig
