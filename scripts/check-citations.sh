#!/usr/bin/env bash
# Checks that every design or platform citation in the code resolves to a section of docs/.
#
# Citations look like `DESIGN §4`, `meta-capi.md §5.1`, `google.md §1.2`, `google.md Addendum A` and
# `peers.md §14` (also written `reference/google.md` §3, `design §3`, or as a list: `google.md §8, §0.1`).
# Each must name a markdown heading of the matching file whose text starts with that section number
# (`## 4. Identity…`, `### 4.1 …`, `## 1.2 …`, `## Addendum A. …`):
#
#   DESIGN §N                  docs/design.md
#   meta-capi.md §N            docs/platforms/meta-capi.md
#   google.md §N, Addendum X   docs/platforms/google.md
#   peers.md §N                docs/platforms/peers.md
#   data-manager.md §N         docs/platforms/data-manager.md
#   oauth.md §N                docs/platforms/oauth.md
#
# Scans *.rs, *.js, *.toml, *.sql and *.md outside docs/, target/ and node_modules/. Prints each
# unresolved citation as file:line and exits 1; otherwise prints how many citations resolved.
# A bare `§1.5` without a file name is not checked: which file it means depends on its context.
# Usage, from the repository root: scripts/check-citations.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# One citation: a file name, then one section or a list of them (", §N", " and §N", "/§N").
section='(§[0-9]+(\.[0-9]+)*|Addendum [A-Z])'
pattern="(\\b(DESIGN|design)(\\.md)?|\\b(meta-capi|google|peers|data-manager|oauth)\\.md)\`? ${section}((, | and |, and |/)${section})*"

doc_for() {
  case "$1" in
    DESIGN* | design*) echo docs/design.md ;;
    meta-capi.md*) echo docs/platforms/meta-capi.md ;;
    google.md*) echo docs/platforms/google.md ;;
    peers.md*) echo docs/platforms/peers.md ;;
    data-manager.md*) echo docs/platforms/data-manager.md ;;
    oauth.md*) echo docs/platforms/oauth.md ;;
  esac
}

# Whether `doc` has a heading for `sec` ("4", "1.2", "Addendum A").
declare -A known=()
has_heading() {
  local doc=$1 sec=$2 key="$1|$2" re
  if [[ -z ${known[$key]+x} ]]; then
    if [[ $sec == Addendum* ]]; then
      re="^#+[[:space:]]+${sec}([.:[:space:]]|\$)"
    else
      re="^#+[[:space:]]+${sec//./\\.}\\.?([[:space:]]|\$)"
    fi
    if [[ -f $doc ]] && grep -Eq "$re" "$doc"; then
      known[$key]=1
    else
      known[$key]=0
    fi
  fi
  [[ ${known[$key]} == 1 ]]
}

resolved=0
unresolved=0
while IFS= read -r -d '' file; do
  while IFS= read -r hit; do
    [[ -z $hit ]] && continue
    line=${hit%%:*}
    citation=${hit#*:}
    doc=$(doc_for "$citation")
    # Every section of the citation; "§6." and "§3.3," lose their punctuation here.
    while IFS= read -r sec; do
      [[ -z $sec ]] && continue
      sec=${sec#§}
      if has_heading "$doc" "$sec"; then
        resolved=$((resolved + 1))
      else
        unresolved=$((unresolved + 1))
        echo "${file#./}:${line}: \"${citation}\": no heading for ${sec} in ${doc}"
      fi
    done < <(grep -oE "§[0-9]+(\.[0-9]+)*|Addendum [A-Z]" <<<"$citation" || true)
  done < <(grep -noE "$pattern" "$file" || true)
done < <(find . \( -path ./docs -o -path ./.git -o -name target -o -name node_modules \) -prune -o \
  -type f \( -name '*.rs' -o -name '*.js' -o -name '*.toml' -o -name '*.sql' -o -name '*.md' \) -print0 | sort -z)

if ((unresolved > 0)); then
  echo "check-citations: ${unresolved} unresolved citation(s), ${resolved} resolved" >&2
  exit 1
fi
echo "check-citations: ${resolved} citations resolve to sections of docs/"
