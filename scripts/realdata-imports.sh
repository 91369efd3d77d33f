# Sourced by the benchmark scripts: imports all of ../shared/realdata into a running log, each
# source under its own importer's state directory, with the source URL and commit that
# ../shared/realdata/SOURCES.md gives.
#
#   import_realdata <realdata dir> <q function> <importer of wasmtime's imports.lock>
#
# <q function> is called as `q <importer> <import arguments...>` and runs `quorum import`
# with that importer's state directory against the log.
import_realdata() {
  local real=$1 q=$2 imports=$3
  local wasmtime=e6b33de5139d915a48127fc78b790e2d306cf896
  local wasmtime_url="https://raw.githubusercontent.com/bytecodealliance/wasmtime/$wasmtime/supply-chain"
  "$q" google cargo-vet "$real/cargo-vet/google-rust-crate-audits.audits.toml" \
    --source https://raw.githubusercontent.com/google/rust-crate-audits/main/audits.toml \
    --revision 2d69ee5cfcc6e873923b9ed37539d66b8aa9b9c2
  "$q" mozilla cargo-vet "$real/cargo-vet/mozilla-supply-chain.audits.toml" \
    --source https://raw.githubusercontent.com/mozilla/supply-chain/main/audits.toml \
    --revision 66f70f10b567757caaf25a96d37cb782e6d0cf23
  "$q" wasmtime cargo-vet "$real/cargo-vet/wasmtime/audits.toml" \
    --source "$wasmtime_url/audits.toml" --revision "$wasmtime"
  "$q" "$imports" cargo-vet "$real/cargo-vet/wasmtime/imports.lock" \
    --source "$wasmtime_url/imports.lock" --revision "$wasmtime"
  "$q" rustsec rustsec "$real/rustsec-advisory-db" \
    --source https://github.com/rustsec/advisory-db \
    --revision bf5c0d245a92671908518d7e765914d437954ed6
  "$q" pypa osv "$real/pypa-advisory-database/vulns" \
    --source https://github.com/pypa/advisory-database \
    --revision 3ccb612573e2511ab5cad7dafecd838605c80cda
}
