#!/usr/bin/env bash
# check-style.sh - the mechanical part of docs/STYLE.md section 13 (`make check-style`).
#
# C files (*.c, *.h): trailing whitespace, tabs, lines over 100 characters, and calls of
# the banned functions strcpy, strcat, sprintf, vsprintf, strtok, gets (outside comments
# and string literals). Shell scripts (*.sh): trailing whitespace.
# Files are those git knows (tracked, or new and not ignored); without git, every file
# outside build/, bench/data/ and .git/. Prints file:line: problem; exits 1 if any.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- '*.c' '*.h' '*.sh'
  else
    find . \( -path ./build -o -path ./bench/data -o -path ./.git \) -prune -o \
      -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' \) -printf '%P\0'
  fi
}

files=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] && files+=("$f")   # skip files deleted from the working tree
done < <(list_files | sort -z)
[ ${#files[@]} -gt 0 ] || { echo "check-style: no files to check"; exit 0; }

# One awk pass over all files. LC_ALL=C makes length() count bytes in every awk; UTF-8
# continuation bytes are removed first so a line's length is its number of characters.
LC_ALL=C awk '
  FNR == 1 { is_c = FILENAME ~ /\.[ch]$/; in_comment = 0 }
  function problem(msg) { print FILENAME ":" FNR ": " msg; bad = 1 }
  /[ \t\r]$/ { problem("trailing whitespace") }
  !is_c { next }
  /\t/ { problem("tab") }
  {
    text = $0
    gsub(/[\200-\277]/, "", text)
    if (length(text) > 100) problem("line longer than 100 characters (" length(text) ")")
  }
  {
    # Blank out comments, string and character literals, then look for banned calls.
    code = ""; s = $0
    while (s != "") {
      if (in_comment) {
        i = index(s, "*/")
        if (i == 0) { s = "" } else { s = substr(s, i + 2); in_comment = 0 }
      } else if (match(s, /\/\*|\/\/|"|\047/)) {
        code = code substr(s, 1, RSTART - 1) " "
        tok = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        if (tok == "/*") { in_comment = 1 }
        else if (tok == "//") { s = "" }
        else {
          # skip to the closing quote, stepping over backslash escapes
          while (s != "" && substr(s, 1, 1) != tok)
            s = substr(s, (substr(s, 1, 1) == "\\") ? 3 : 2)
          s = substr(s, 2)
        }
      } else { code = code s; s = "" }
    }
    if (match(code, /(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|strtok|gets)[ \t]*\(/)) {
      name = substr(code, RSTART, RLENGTH)
      sub(/^[^A-Za-z]*/, "", name); sub(/[ \t]*\($/, "", name)
      problem("banned function " name "()")
    }
  }
  END { exit bad }
' "${files[@]}" || { echo "check-style: problems found" >&2; exit 1; }
echo "check-style: ${#files[@]} files clean"
