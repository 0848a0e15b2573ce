# bash completion for xvm. The candidates come from `xvm --complete CWORD WORDS...`,
# which knows the commands, their parameters, field names and live objects.

_xvm() {
	# Split the line ourselves: COMP_WORDS breaks words at '=' and ':', but xvm's
	# words are name=value. `read -a` without -r keeps backslash-escaped spaces.
	local line=${COMP_LINE:0:COMP_POINT} words=()
	read -a words <<<"$line"
	[[ $line =~ [[:space:]]$ || ${#words[@]} -eq 0 ]] && words+=("")
	local cword=$((${#words[@]} - 1)) cur=${words[-1]}

	local cands=() c
	mapfile -t cands < <("$1" --complete "$cword" "${words[@]}" 2>/dev/null)

	# bash replaces only the part of the word after its last break character.
	local keep=""
	[[ $cur == *[=:]* && $COMP_WORDBREAKS == *=* ]] && keep=${cur%"${cur##*[=:]}"}
	COMPREPLY=()
	for c in "${cands[@]}"; do
		c=${c#"$keep"}
		printf -v c '%q' "$c"
		COMPREPLY+=("$c")
	done
	# No space after `name=` or `map:`: the value comes next.
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=:] ]]; then
		compopt -o nospace 2>/dev/null
	fi
}
complete -F _xvm xvm
