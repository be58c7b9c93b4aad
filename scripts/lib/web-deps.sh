# Sourced by browser-test.sh and dev.sh: installs examples/web's packages with `npm ci`
# (exactly the committed lock file, which names no download hosts, never rewritten),
# skipped when node_modules already matches the lock file.
web_deps() {
  (
    cd examples/web
    local stamp=node_modules/.package-lock.sha256 want
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      echo "$want" > "$stamp"
    fi
  )
}
