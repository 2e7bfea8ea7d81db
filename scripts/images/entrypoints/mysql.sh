#!/bin/sh
# The official mysql / mariadb images' contract, for an image made from Debian's packages:
#   MYSQL_ROOT_PASSWORD (or MYSQL_ALLOW_EMPTY_PASSWORD), MYSQL_DATABASE, MYSQL_USER and
#   MYSQL_PASSWORD (the MARIADB_* spellings too). The first start initialises the data
#   directory, applies those on a temporary server without networking, stops it, then runs
#   the server on every interface (3306): the log says "ready for connections" twice, as
#   the official images' does. The server drops to the `mysql` account itself (my.cnf).
set -eu

SERVER="${COMPAT_SERVER:-mysqld}"
CLIENT="${COMPAT_CLIENT:-mysql}"
if [ "${1#-}" != "$1" ]; then
    set -- "$SERVER" "$@"
fi

sql_string() { # $1 as the inside of a '...' SQL string
    rest="$1"
    out=""
    while [ -n "$rest" ]; do
        char="${rest%"${rest#?}"}"
        rest="${rest#?}"
        case "$char" in
            "'") out="$out''" ;;
            "\\") out="$out\\\\" ;;
            *) out="$out$char" ;;
        esac
    done
    printf '%s' "$out"
}

sql_name() { # $1 as the inside of a `...` SQL identifier
    rest="$1"
    out=""
    while [ -n "$rest" ]; do
        char="${rest%"${rest#?}"}"
        rest="${rest#?}"
        if [ "$char" = '`' ]; then out="$out\`\`"; else out="$out$char"; fi
    done
    printf '%s' "$out"
}

if [ "$1" = "$SERVER" ] && [ ! -d /var/lib/mysql/mysql ]; then
    root_password="${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}"
    allow_empty="${MYSQL_ALLOW_EMPTY_PASSWORD:-${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}}"
    database="${MYSQL_DATABASE:-${MARIADB_DATABASE:-}}"
    user="${MYSQL_USER:-${MARIADB_USER:-}}"
    password="${MYSQL_PASSWORD:-${MARIADB_PASSWORD:-}}"
    if [ -z "$root_password" ] && [ -z "$allow_empty" ]; then
        echo "error: Database is uninitialized and password option is not specified" >&2
        echo "    You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD" >&2
        exit 1
    fi
    mkdir -p /var/lib/mysql
    chown mysql:mysql /var/lib/mysql
    chmod 750 /var/lib/mysql
    echo "Initializing database files"
    if [ "$SERVER" = mariadbd ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
            --auth-root-authentication-method=normal --skip-name-resolve > /dev/null
    else
        "$@" --initialize-insecure --default-time-zone=SYSTEM
    fi
    echo "Database files initialized"

    socket=/run/mysqld/init.sock
    "$@" --skip-networking --default-time-zone=SYSTEM --socket="$socket" &
    temporary=$!
    tries=0
    until "$CLIENT" --protocol=socket --socket="$socket" -uroot -e 'SELECT 1' > /dev/null 2>&1; do
        if ! kill -0 "$temporary" 2> /dev/null || [ "$tries" -ge 600 ]; then
            echo "error: the temporary server did not start" >&2
            exit 1
        fi
        tries=$((tries + 1))
        sleep 0.1
    done
    echo "Temporary server started."

    secret="$(sql_string "$root_password")"
    {
        echo "SET @@SESSION.SQL_LOG_BIN=0;"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$secret';"
        echo "CREATE USER 'root'@'%' IDENTIFIED BY '$secret';"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        if [ -n "$database" ]; then
            echo "CREATE DATABASE IF NOT EXISTS \`$(sql_name "$database")\`;"
        fi
        if [ -n "$user" ] && [ -n "$password" ]; then
            echo "CREATE USER '$(sql_string "$user")'@'%' IDENTIFIED BY '$(sql_string "$password")';"
            if [ -n "$database" ]; then
                echo "GRANT ALL ON \`$(sql_name "$database")\`.* TO '$(sql_string "$user")'@'%';"
            fi
        fi
        echo "FLUSH PRIVILEGES;"
    } | "$CLIENT" --protocol=socket --socket="$socket" -uroot

    kill -TERM "$temporary"
    wait "$temporary" || true
    echo "Temporary server stopped"
    echo
    echo "init process done. Ready for start up."
    echo
fi

exec "$@"
