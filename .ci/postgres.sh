# A throwaway PostgreSQL server for the sweep tests (source this file; bash).
#
#   pg_start PORT DIR   initdb (trust auth, loopback only) in DIR/data as the postgres user, start
#                       it on 127.0.0.1:PORT (or the next free port of the ten after it, when
#                       another server already listens there), create the database "optuna", and
#                       export NUMNET_TEST_POSTGRES_URL=postgresql+psycopg2://postgres@127.0.0.1:P/optuna
#   pg_stop DIR         stop it (fast shutdown) and remove DIR; harmless when nothing runs
#
# Needs the distribution's server (apt-get install postgresql). Root runs the server as postgres.

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

pg_start() {
    local port=$1 dir=$2 bin last
    bin=$(pg_bin)
    last=$((port + 10))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
        if [ "$port" -gt "$last" ]; then
            echo "pg_start: ports $1-$last are all taken on 127.0.0.1" >&2
            return 1
        fi
    done
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    su postgres -s /bin/sh -c "$bin/initdb -D $dir/data -U postgres --auth=trust -E UTF8 >$dir/initdb.log"
    su postgres -s /bin/sh -c "$bin/pg_ctl -D $dir/data -l $dir/log -w -t 60 \
        -o '-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
    "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE optuna'
    export NUMNET_TEST_POSTGRES_URL="postgresql+psycopg2://postgres@127.0.0.1:$port/optuna"
}

pg_stop() {
    local dir=$1 bin
    bin=$(pg_bin)
    if [ -f "$dir/data/postmaster.pid" ]; then
        su postgres -s /bin/sh -c "$bin/pg_ctl -D $dir/data -m fast -w stop >/dev/null" || true
    fi
    rm -rf "$dir"
}
