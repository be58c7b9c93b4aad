# Sourced by dev.sh, demo.sh and bench/run.sh: the two keys liveness-api refuses to start
# without, for local runs only (a LivenessApp's keys come from its Secret).
#   dev_keys DIR   writes DIR/session.key (32 random bytes) and DIR/verdict.pem (PKCS#8
#                  EC P-256) unless they exist
dev_keys() {
  mkdir -p "$1"
  [ -s "$1/session.key" ] || head -c 32 /dev/urandom > "$1/session.key"
  [ -s "$1/verdict.pem" ] ||
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/verdict.pem" 2>/dev/null
}
