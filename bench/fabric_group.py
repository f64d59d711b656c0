"""Fabric's side of gotask's bench: one command on hosts at once.

    python3 fabric_group.py SSH_CONFIG KNOWN_HOSTS COMMAND HOST...

Each HOST is an alias of SSH_CONFIG, read as Fabric reads ~/.ssh/config
(HostName, Port, User, IdentityFile). The hosts run COMMAND together in a
ThreadingGroup, a thread each, and the exit status is 1 if any failed.
Fabric accepts an unknown host key by default (paramiko's AutoAddPolicy);
here, as in gotask and ssh, the key must be in KNOWN_HOSTS.
"""

import sys

import paramiko
from fabric import Config, Connection, ThreadingGroup
from fabric.exceptions import GroupException


def main(ssh_config, known_hosts, command, *hosts):
    config = Config(runtime_ssh_path=ssh_config)
    conns = []
    for host in hosts:
        # IdentitiesOnly yes, as the ssh_config says (paramiko does not
        # read it): the config's key only, no agent, no ~/.ssh keys.
        c = Connection(host, config=config,
                       connect_kwargs={"allow_agent": False, "look_for_keys": False})
        c.client.load_host_keys(known_hosts)
        c.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        conns.append(c)
    group = ThreadingGroup.from_connections(conns)
    try:
        group.run(command, hide=True)
    except GroupException as e:
        for c, r in e.result.items():
            if isinstance(r, Exception):
                print(f"{c.original_host}: {r!r}", file=sys.stderr)
        return 1
    finally:
        group.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
