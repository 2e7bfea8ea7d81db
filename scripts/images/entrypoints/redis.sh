#!/bin/sh
# The official redis / valkey images' contract, for an image made from Debian's packages:
# arguments that start with `-` or name a .conf file go to the server; the server listens
# on every interface (6379) with protected mode off, as the official builds do.
set -eu

SERVER="${COMPAT_SERVER:-redis-server}"
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- "$SERVER" "$@"
fi
if [ "$1" = "$SERVER" ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) set -- "$@" --protected-mode no ;;
    esac
fi

exec "$@"
