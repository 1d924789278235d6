# shellcheck shell=bash
# Private RabbitMQ brokers for the system tests.  Sourced after lib.sh:
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/lib-rabbit.sh"
#     sandbox_init
#     rabbit_start mq                  # a broker called mq, with TLS
#     url=$(rabbit_url mq)             # rabbit://ovsa:...@127.0.0.1:PORT/
#     rabbit_ctl mq list_queues name
#     rabbit_restart mq
#
# Every broker is its own Erlang node, ovsa-<name>-<sandbox id>@localhost,
# with its own epmd, ports, cookie (HOME), database, logs and configuration
# under $SANDBOX/rabbit-<name>: nothing is shared with the machine's own
# RabbitMQ or with another test's.  Both processes are registered with the
# sandbox (their command lines name the sandbox), so that the EXIT trap
# stops them even if the test does not.
#
# Each broker has a user "ovsa" whose password needs percent-encoding in a
# URL, a plain TCP listener and a TLS listener, whose certificate is signed
# by a CA made for the sandbox ($SANDBOX/rabbit-<name>/tls/ca.pem; a client
# certificate signed by it is there too).

RABBIT_USER=ovsa
# Characters that transport_url must percent-encode ('/' would be one too,
# but oslo.messaging itself cannot pass it on to kombu).
RABBIT_PASS='p@ss:w%rd'
RABBIT_PASS_URL='p%40ss%3Aw%25rd'

_rabbit_dir() { echo "$SANDBOX/rabbit-$1"; }

# _rabbit_env_vars NAME: sets the array RABBIT_ENV to the environment that
# gives the broker its node name, ports, cookie and directories.
_rabbit_env_vars() {
    local dir
    dir=$(_rabbit_dir "$1")
    [ -f "$dir/node" ] || fail "no broker called '$1'"
    RABBIT_ENV=(HOME="$dir/home"
        RABBITMQ_NODENAME="$(cat "$dir/node")"
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$(cat "$dir/port")"
        RABBITMQ_DIST_PORT="$(cat "$dir/dist-port")"
        ERL_EPMD_PORT="$(cat "$dir/epmd-port")"
        ERL_EPMD_ADDRESS=127.0.0.1
        RABBITMQ_MNESIA_BASE="$dir/mnesia"
        RABBITMQ_LOG_BASE="$dir/log"
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
        RABBITMQ_PID_FILE="$dir/beam.pid"
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}")
}

# rabbit_env NAME CMD...: runs CMD with the broker's environment.
rabbit_env() {
    local RABBIT_ENV
    _rabbit_env_vars "$1"
    shift
    env "${RABBIT_ENV[@]}" "$@"
}

# rabbit_ctl NAME ARGS...: rabbitmqctl against the broker.
rabbit_ctl() {
    local name=$1
    shift
    rabbit_env "$name" timeout 60 /usr/lib/rabbitmq/bin/rabbitmqctl \
        -n "$(cat "$(_rabbit_dir "$name")/node")" "$@"
}

# rabbit_port NAME / rabbit_tls_port NAME: its listeners, on 127.0.0.1.
rabbit_port() { cat "$(_rabbit_dir "$1")/port"; }
rabbit_tls_port() { cat "$(_rabbit_dir "$1")/tls-port"; }

# rabbit_ca NAME: the CA certificate that signed the broker's.
rabbit_ca() { echo "$(_rabbit_dir "$1")/tls/ca.pem"; }

# rabbit_url NAME [VHOST]: a transport_url for the broker's TCP listener,
# user ovsa, with the password percent-encoded.
rabbit_url() {
    echo "rabbit://$RABBIT_USER:$RABBIT_PASS_URL@127.0.0.1:$(rabbit_port "$1")/${2:-}"
}

# rabbit_tls_url NAME: the same for the TLS listener.
rabbit_tls_url() {
    echo "rabbit://$RABBIT_USER:$RABBIT_PASS_URL@127.0.0.1:$(rabbit_tls_port "$1")/"
}

# _rabbit_tls DIR: a CA, a server certificate and a client certificate,
# both signed by the CA, in DIR/tls.
_rabbit_tls() {
    local d=$1/tls who
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ovsa-test-ca \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
    for who in server client; do
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost-$who" \
            -keyout "$d/$who.key" -out "$d/$who.csr" 2>/dev/null
        openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -out "$d/$who.pem" 2>/dev/null
    done
    chmod 644 "$d"/*.pem "$d"/*.key
}

# rabbit_start NAME: creates and starts broker NAME and waits until it
# accepts connections.
rabbit_start() {
    local name=$1 dir
    dir=$(_rabbit_dir "$name")
    [ -n "$SANDBOX" ] || fail "rabbit_start: call sandbox_init first"
    [ ! -e "$dir" ] || fail "rabbit_start: broker '$name' exists already"
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] \
        || fail "RabbitMQ is not installed (scripts/install-deps.sh)"
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    echo "ovsa-$name-$SANDBOX_ID@localhost" > "$dir/node"
    free_port > "$dir/port"
    free_port > "$dir/tls-port"
    free_port > "$dir/dist-port"
    free_port > "$dir/epmd-port"
    # A cookie of our own, so that no other node can talk to ours.
    _rand_hex 16 > "$dir/home/.erlang.cookie"
    chmod 600 "$dir/home/.erlang.cookie"
    _rabbit_tls "$dir"
    cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(cat "$dir/port")
listeners.ssl.default = 127.0.0.1:$(cat "$dir/tls-port")
ssl_options.cacertfile = $dir/tls/ca.pem
ssl_options.certfile = $dir/tls/server.pem
ssl_options.keyfile = $dir/tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
heartbeat = 60
log.file.level = info
log.console = false
EOF
    echo '[].' > "$dir/advanced.config"
    echo '[].' > "$dir/enabled_plugins"
    : > "$dir/rabbitmq-env.conf"
    _rabbit_launch "$name"
    rabbit_ctl "$name" -q add_user "$RABBIT_USER" "$RABBIT_PASS" >/dev/null
    rabbit_ctl "$name" -q set_permissions -p / "$RABBIT_USER" '.*' '.*' '.*' >/dev/null
}

# _rabbit_launch NAME: starts the broker's epmd (once) and node, and waits
# until the node accepts connections.
_rabbit_launch() {
    local name=$1 dir pid RABBIT_ENV
    dir=$(_rabbit_dir "$name")
    _rabbit_env_vars "$name"
    # Our own epmd, run under a name in the sandbox so that the sandbox's
    # cleanup recognises it; the node registers with it.  A plain command
    # in the background, so that $! is epmd itself (env and bash exec).
    if ! { [ -f "$dir/epmd.pid" ] && _pid_alive "$(cat "$dir/epmd.pid")"; }; then
        env "${RABBIT_ENV[@]}" bash -c 'exec -a "$1" epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1' \
            _ "$dir/epmd" </dev/null >"$dir/log/epmd.log" 2>&1 {_OVSA_OUT}>&- &
        pid=$!
        echo "$pid" > "$dir/epmd.pid"
        _register pid "$pid" "rabbit-$name-epmd"
    fi
    # Detached, the Erlang VM writes its pid to beam.pid; its command line
    # names the sandbox (its HOME).
    rm -f "$dir/beam.pid"
    ( cd "$dir" && exec env "${RABBIT_ENV[@]}" setsid \
          /usr/lib/rabbitmq/bin/rabbitmq-server -detached ) \
        </dev/null >>"$dir/log/stdout.log" 2>&1 {_OVSA_OUT}>&-
    wait_until 30 test -s "$dir/beam.pid" \
        || fail "broker $name did not start: $(tail -n 5 "$dir/log/stdout.log")"
    pid=$(cat "$dir/beam.pid")
    _register pid "$pid" "rabbit-$name"
    wait_until 90 rabbit_running "$name" \
        || fail "broker $name does not answer: $(tail -n 5 "$dir/log/"*.log)"
}

# rabbit_running NAME: true once the node accepts AMQP connections.
rabbit_running() {
    rabbit_ctl "$1" -q await_startup --timeout 5 >/dev/null 2>&1
}

# rabbit_stop NAME: stops the node (and leaves epmd and the data).
rabbit_stop() {
    local name=$1 dir pid
    dir=$(_rabbit_dir "$name")
    pid=$(cat "$dir/beam.pid" 2>/dev/null || true)
    rabbit_ctl "$name" -q stop >/dev/null 2>&1 || true
    if [ -n "$pid" ] && ! wait_until 30 not _pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# rabbit_restart NAME: stops the node and starts it again on the same
# ports, with the same data (durable entities survive, others do not).
rabbit_restart() {
    rabbit_stop "$1"
    _rabbit_launch "$1"
}
