#!/bin/sh
# Certificates for the broker's TLS listener (deploy/mosquitto/campus.conf, port 8883), with openssl.
#
#   sh deploy/mosquitto/make-certs.sh DIR broker.school.lan 10.0.0.5     # CA (once) + server certificate
#   sh deploy/mosquitto/make-certs.sh DIR --client school-1.classroom-301 # optional client certificates
#
# DIR/ca.pem, ca.key       the campus CA (made on first use, reused afterwards; keep ca.key offline)
# DIR/server.pem, .key     the broker's certificate: every name given is a subjectAltName (IP or DNS),
#                          the first is also its CN; agents check it against mqtt.host
# DIR/NAME.pem, NAME.key   a client certificate with CN=NAME (the node's user name, site.node), for
#                          mutual TLS (require_certificate true, use_identity_as_username true)
# Copy ca.pem to every node (agent config mqtt.tls.ca) and ca.pem, server.pem, server.key to
# /etc/mosquitto/certs/ (readable by user mosquitto). Validity: CA_DAYS (3650), DAYS (825).
set -eu

usage() { echo "usage: $0 DIR SERVER-NAME [MORE-NAMES...] | $0 DIR --client NAME [NAME...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$1; shift
mkdir -p "$dir"
umask 077
days=${DAYS:-825}

if [ ! -f "$dir/ca.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "${CA_DAYS:-3650}" \
        -subj "/CN=campus-edge CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    echo "made $dir/ca.pem"
fi

# sign NAME EXTENSIONS: NAME.key and NAME.pem signed by the CA
sign() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
        -keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
    printf '%s\n' "$3" > "$dir/$1.ext"
    openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days "$days" -extfile "$dir/$1.ext" -out "$dir/$1.pem" 2>/dev/null
    rm -f "$dir/$1.csr" "$dir/$1.ext"
    chmod 644 "$dir/$1.pem"
    echo "made $dir/$1.pem ($2)"
}

if [ "$1" = "--client" ]; then
    shift
    [ $# -ge 1 ] || usage
    for name in "$@"; do
        sign "$name" "$name" "extendedKeyUsage=clientAuth"
    done
else
    sans=""
    for name in "$@"; do
        case $name in
            *[!0-9.]*) case $name in *:*) kind=IP ;; *) kind=DNS ;; esac ;;  # IPv6 has ':'
            *) kind=IP ;;
        esac
        sans="${sans:+$sans,}$kind:$name"
    done
    sign server "$1" "subjectAltName=$sans
extendedKeyUsage=serverAuth"
fi
chmod 644 "$dir/ca.pem"
