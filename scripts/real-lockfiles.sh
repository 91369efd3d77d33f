#!/usr/bin/env bash
# Real lockfiles of public projects, taken from the packages those projects publish on the
# package registries (npm, PyPI, Cargo), for the lockfile tests (verifier/tests/lockfiles.rs,
# cli/tests/adversarial/lockfiles.rs) and the fuzz seeds.
#
#   scripts/real-lockfiles.sh DEST
#
# Downloads each pinned package version with its registry's own client (npm pack, pip
# download, cargo fetch), checks the archive's SHA-256 against the value pinned below (a
# mismatch fails), extracts only the lockfiles, unchanged byte for byte, into
# DEST/<package>-<version>/<path inside the archive>, checks each file's SHA-256, and writes
# DEST/SOURCES.md (where each file comes from, its license and digests).
#
# Idempotent: when DEST already holds every file with its pinned SHA-256 it touches no
# network and changes nothing (SOURCES.md is rewritten only if it differs). Downloads are
# retried on failure (RETRIES, 4 by default). Nothing here is committed: fetched data stays out
# of the repository; scripts/test.sh runs this into a cache outside it
# ($QUORUM_LOCKFILE_CACHE, ~/.cache/quorum/real-lockfiles) and points QUORUM_LOCKFILE_DATA
# there.
#
# Fetched with the machine's own client configuration: npm's registry, pip's index and
# Cargo's registry as set up for the user (no host is named here). pip prepares each sdist's
# metadata with its build backend (installed from the index into an isolated environment),
# only after it has checked the sdist against the pinned SHA-256 (--require-hashes).
set -euo pipefail
shopt -s inherit_errexit

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DEST" >&2
  exit 64
fi
mkdir -p "$1"
dest=$(cd "$1" && pwd)
retries=${RETRIES:-4}

# The archives: id, registry, package, version, SHA-256 of the archive as the registry serves
# it, upstream repository, license (as the package declares it).
archives='
sf-cli|npm|@salesforce/cli|2.150.6|11ede48cb63d613d42acdb16b1622a047666a5cd80eefabdf612f9c53782d50e|salesforcecli/cli|Apache-2.0
redwood|npm|create-redwood-app|8.9.0|3ed03fc48f3fe4972daa877498efd048fefd4953834edb58c8531b5686950973|redwoodjs/redwood|MIT
flask|pypi|flask|3.1.1|284c7b8f2f58cb737f0cf1c30fd7eaf0ccfcde196099d24ecede3fc2005aa59e|pallets/flask|BSD-3-Clause
anywidget|pypi|anywidget|0.11.0|6695fbef9449cf8c27f421b96c5837aa37f909ec1f60cfa33add333e1b70b169|manzt/anywidget|MIT
anywidget-old|pypi|anywidget|0.9.0|7d5f32310e96199cb27f9738d41d0c4b01eeb15c74f744b3ba4a97fd6a9ba86d|manzt/anywidget|MIT
mozilla-version|pypi|mozilla-version|4.1.0|f32f6f5607c345bb4db0aba0077511b196cba80af70c83cfe606a913a478f7e8|mozilla-releng/mozilla-version|MPL-2.0
ripgrep|cargo|ripgrep|14.1.1|f77b8032dc584527975f34aa5a897d0ef5a785573fda778771a614ff9da501d9|BurntSushi/ripgrep|Unlicense OR MIT
sqlx|cargo|sqlx|0.9.0|378620ccc25c62c89d8be1c819e76a88d59bdcc3304733330788948e619bfd71|launchbadge/sqlx|MIT OR Apache-2.0
'

# The files: archive id, path inside the archive, path under DEST, SHA-256, size in bytes,
# what it is.
files='
sf-cli|package/npm-shrinkwrap.json|salesforce-cli-2.150.6/npm-shrinkwrap.json|856315c706f3d36b4f15eb8d1907bf9d0260ad6bc42766a0a55cbf0fb08d421f|859970|npm-shrinkwrap.json, lockfile v3
sf-cli|package/oclif.lock|salesforce-cli-2.150.6/oclif.lock|28f6348886edb958f5b63ab5dee1f1a037808ff2f7e039766d24fccb2a0a0140|447932|Yarn v1 lockfile: the repository'"'"'s yarn.lock as oclif ships it
redwood|package/templates/ts/yarn.lock|create-redwood-app-8.9.0/templates/ts/yarn.lock|146ed9918d4f1def7308438f68b0d4d49be858b0bae341b11cc8c7e519723635|666886|Yarn Berry lockfile v8 (cacheKey 10c0) of the app template
flask|flask-3.1.1/uv.lock|flask-3.1.1/uv.lock|84c028a5b28114c7681fde1e9f99bc18aa0be51c9aa56d1f3efc291984b3b22a|248266|uv.lock (version 1, revision 2)
flask|flask-3.1.1/examples/celery/requirements.txt|flask-3.1.1/examples/celery/requirements.txt|96eaefbbd532b79f687e17d0418807257cddf6f9c1d15aad0b11683ebf23a382|1073|pip-compile requirements, no hashes
anywidget|anywidget-0.11.0/pnpm-lock.yaml|anywidget-0.11.0/pnpm-lock.yaml|28981120ee31e15f9bfa4c4a0670bccc8e651e562060654bf65dde2d81b42767|375467|pnpm-lock.yaml v9
anywidget-old|anywidget-0.9.0/pnpm-lock.yaml|anywidget-0.9.0/pnpm-lock.yaml|5956f5cfae51b7a43197b3289772f312449e3e9c77dd750727ded8e148149c56|302332|pnpm-lock.yaml v6
mozilla-version|mozilla_version-4.1.0/requirements/docs.txt|mozilla-version-4.1.0/requirements/docs.txt|0a4483708791cdf8bfb996d95ed4125a7465d116f2e1766d282d1192b6ba3783|17719|pip-compile-multi requirements with --hash
ripgrep|ripgrep-14.1.1/Cargo.lock|ripgrep-14.1.1/Cargo.lock|4ea26d3699f0be17c90b5a14c8938fc9a5ee44b0a01a89446786ae4fd954d9d9|13563|Cargo.lock
sqlx|sqlx-0.9.0/Cargo.lock|sqlx-0.9.0/Cargo.lock|ad4f6fafadf7064959b74af106305db82601511d668c519054be031c66fdbea5|96346|Cargo.lock
'

say() { echo "real-lockfiles: $*" >&2; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Runs "$@" up to $retries times, waiting 2, 4, 8… seconds between tries.
retry() {
  local try=1 wait=2
  until "$@"; do
    if [ "$try" -ge "$retries" ]; then
      say "giving up after $try tries: $*"
      return 1
    fi
    say "try $try failed, again in ${wait}s: $*"
    sleep "$wait"
    try=$((try + 1))
    wait=$((wait * 2))
  done
}

# One field of the archive line with id $1: 2 registry, 3 package, 4 version, 5 sha256,
# 6 repository, 7 license.
archive_field() {
  awk -F'|' -v id="$1" -v n="$2" '$1 == id { print $n }' <<<"$archives"
}

# Downloads archive $1 into directory $2 and prints the archive's path.
download() {
  local id=$1 dir=$2 registry package version sha
  registry=$(archive_field "$id" 2)
  package=$(archive_field "$id" 3)
  version=$(archive_field "$id" 4)
  sha=$(archive_field "$id" 5)
  case $registry in
    npm)
      # `npm pack NAME@VERSION` writes the registry's tarball unchanged (npm checks it
      # against the registry's integrity first); lifecycle scripts are not run.
      retry npm pack --silent --ignore-scripts --pack-destination "$dir" "$package@$version" >/dev/null
      ;;
    pypi)
      # The sdist, never a wheel; hash-checking mode refuses any other bytes before the
      # build backend runs.
      printf '%s==%s --hash=sha256:%s\n' "$package" "$version" "$sha" >"$dir/req.txt"
      retry python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary "$package" --require-hashes -r "$dir/req.txt" -d "$dir" >&2
      rm -f "$dir/req.txt"
      ;;
    cargo)
      # Cargo downloads a crate only as a dependency: a throw-away package that depends on
      # exactly this version, then the .crate from Cargo's download cache.
      mkdir -p "$dir/probe"
      printf '[package]\nname = "real-lockfiles-probe"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[lib]\npath = "lib.rs"\n\n[dependencies]\n%s = { version = "=%s", default-features = false }\n' \
        "$package" "$version" >"$dir/probe/Cargo.toml"
      : >"$dir/probe/lib.rs"
      retry cargo fetch --quiet --manifest-path "$dir/probe/Cargo.toml" 2>&1 |
        grep -v 'missing a lib target' >&2 || true
      # The pinned bytes if Cargo's cache holds them (one cache folder per registry),
      # else whatever it holds, for the check below to refuse.
      local crate
      for crate in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$package-$version.crate"; do
        [ -f "$crate" ] || continue
        cp "$crate" "$dir/"
        if [ "$(sha256_of "$crate")" = "$sha" ]; then
          break
        fi
      done
      rm -rf "$dir/probe"
      ;;
    *)
      say "unknown registry $registry"
      return 1
      ;;
  esac
  local found
  found=$(find "$dir" -maxdepth 1 -type f \( -name '*.tgz' -o -name '*.tar.gz' -o -name '*.crate' \) | head -n 1)
  if [ -z "$found" ]; then
    say "$registry $package $version: nothing was downloaded"
    return 1
  fi
  local got
  got=$(sha256_of "$found")
  if [ "$got" != "$sha" ]; then
    say "$registry $package $version: archive SHA-256 is $got, pinned $sha"
    return 1
  fi
  echo "$found"
}

# Whether the file at DEST/$1 has SHA-256 $2.
is_current() {
  [ -f "$dest/$1" ] && [ "$(sha256_of "$dest/$1")" = "$2" ]
}

write_sources() {
  local out=$1
  {
    cat <<'EOF'
# Real lockfiles of public projects, from their registry packages

Written by `scripts/real-lockfiles.sh` (in the Quorum repository), which downloads each
package version below with its registry's own client (`npm pack`, `pip download` of the
sdist, `cargo fetch` of the crate), checks the archive's SHA-256, and extracts the lockfiles
unchanged, byte for byte. They are the projects' own lockfiles as their packages ship them.
The lockfile tests read them as read-only inputs (`verifier/tests/lockfiles.rs`,
`cli/tests/adversarial/lockfiles.rs`); never edit them by hand.

| file here | format | registry | package@version | path inside the archive | archive sha256 | file sha256 | upstream repository | license | size (bytes) |
|---|---|---|---|---|---|---|---|---|---|
EOF
    local id path rel sha size what
    while IFS='|' read -r id path rel sha size what; do
      [ -n "$id" ] || continue
      # shellcheck disable=SC2016 # the backquotes are Markdown
      printf '| `%s` | %s | %s | %s@%s | `%s` | %s | %s | %s | %s | %s |\n' \
        "$rel" "$what" "$(archive_field "$id" 2)" "$(archive_field "$id" 3)" "$(archive_field "$id" 4)" \
        "$path" "$(archive_field "$id" 5)" "$sha" "$(archive_field "$id" 6)" \
        "$(archive_field "$id" 7)" "$size"
    done <<<"$files"
    cat <<'EOF'

No registry package was found that ships a `poetry.lock` (Poetry's own builder leaves it out
of sdists); the Poetry tests read `../shared/realdata/lockfiles/poetry/poetry.lock` or
`$QUORUM_POETRY_LOCKFILE` where present.
EOF
  } >"$out"
}

# Which archives have a file missing or different.
needed=()
while IFS='|' read -r id path rel sha size what; do
  [ -n "$id" ] || continue
  if ! is_current "$rel" "$sha"; then
    case " ${needed[*]-} " in
      *" $id "*) ;;
      *) needed+=("$id") ;;
    esac
  fi
done <<<"$files"

if [ ${#needed[@]} -gt 0 ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/real-lockfiles.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  for id in "${needed[@]}"; do
    say "fetching $(archive_field "$id" 2) $(archive_field "$id" 3) $(archive_field "$id" 4)"
    mkdir -p "$work/$id"
    archive=$(download "$id" "$work/$id")
    while IFS='|' read -r fid path rel sha size what; do
      [ "$fid" = "$id" ] || continue
      tmp="$work/$id/extracted"
      tar -xzf "$archive" -O -- "$path" >"$tmp"
      got=$(sha256_of "$tmp")
      if [ "$got" != "$sha" ]; then
        say "$path in $(basename "$archive"): SHA-256 is $got, pinned $sha"
        exit 1
      fi
      mkdir -p "$(dirname "$dest/$rel")"
      mv -f "$tmp" "$dest/$rel.tmp.$$"
      mv -f "$dest/$rel.tmp.$$" "$dest/$rel"
    done <<<"$files"
  done
fi

# SOURCES.md last: the tests take its presence to mean the set is complete.
sources_tmp="$dest/SOURCES.md.tmp.$$"
write_sources "$sources_tmp"
if [ -f "$dest/SOURCES.md" ] && cmp -s "$sources_tmp" "$dest/SOURCES.md"; then
  rm -f "$sources_tmp"
else
  mv -f "$sources_tmp" "$dest/SOURCES.md"
fi
if [ ${#needed[@]} -eq 0 ]; then
  say "$dest is up to date"
else
  say "wrote $dest"
fi
