# Sourced by browser-test.sh, dev.sh and the verdict test: installs a package directory's
# npm packages with `npm ci` (exactly the committed lock file, which names no download
# hosts, never rewritten), skipped when node_modules already matches the lock file.
npm_deps() { # dir
  (
    cd "$1"
    local stamp=node_modules/.package-lock.sha256 want
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      echo "$want" > "$stamp"
    fi
  )
}

# examples/web: the example page.
web_deps() { npm_deps examples/web; }

# examples/backend: the verdict verifier (jose).
backend_deps() { npm_deps examples/backend; }
