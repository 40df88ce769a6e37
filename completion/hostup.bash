# SPDX-License-Identifier: MIT
# bash completion for hostup: commands, each command's options, and inside
# a --policy value the names of the rule options (attempts=, deadline=, ...)
# and the values of the few that take a word.  Installed by `make install`
# to $(PREFIX)/share/bash-completion/completions/hostup; to try it from the
# source tree: source completion/hostup.bash

# The rule options HOSTUP_POLICY takes (shim/core/policy_option.c; the
# test in tests/integration/test_cli.sh keeps the two lists the same).
_hostup_policy_keys='attempts= timeout= deadline= backoff= multiplier= jitter= so_error= retry_on= budget= budget_min= off'

# Options of COMMAND, and which of them take a value.
_hostup_options() {
	case $1 in
	run) echo '--policy --config --log --lenient --supervise --preload-only --verbose --help --' ;;
	policy) echo '--json --policy --config --help' ;;
	check-config) echo '--json --policy --config --help' ;;
	doctor) echo '--json --timeout --help' ;;
	report) echo '--json --help' ;;
	status) echo '--json --watch --file --help' ;;
	metrics) echo '--listen --textfile --file --help' ;;
	esac
}

# cur is the word being completed, inside a --policy value: complete the
# last space-separated part of it, keeping what comes before.
_hostup_policy_value() {
	local cur=$1 head part
	head=${cur%"${cur##*[ ;]}"}
	part=${cur##*[ ;]}
	local words=$_hostup_policy_keys
	case $part in
	jitter=*) words='jitter=full jitter=equal jitter=decorrelated jitter=none' ;;
	so_error=*) words='so_error=einprogress so_error=zero' ;;
	retry_on=*) words='retry_on=+ECONNREFUSED retry_on=+ETIMEDOUT retry_on=+EAI_NONAME retry_on=ENETUNREACH|EHOSTUNREACH' ;;
	esac
	local w
	COMPREPLY=()
	for w in $words; do
		[[ $w == "$part"* ]] && COMPREPLY+=("$head$w")
	done
	compopt -o nospace 2>/dev/null
}

_hostup() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmds='run policy check-config doctor report status metrics help version'
	if ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$cmds --help --version" -- "$cur")
		return 0
	fi
	local cmd=${COMP_WORDS[1]} i
	# after run's --, the command and its arguments are the command's
	if [[ $cmd == run ]]; then
		for ((i = 2; i < COMP_CWORD; i++)); do
			if [[ ${COMP_WORDS[i]} == -- ]]; then
				if declare -F _command_offset >/dev/null; then
					_command_offset $((i + 1))
				else
					mapfile -t COMPREPLY < <(compgen -c -- "$cur")
				fi
				return 0
			fi
		done
	fi
	case $prev in
	--policy)
		_hostup_policy_value "$cur"
		return 0 ;;
	--config | --file | --textfile)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--log)
		mapfile -t COMPREPLY < <(compgen -W 'stderr off fd:' -- "$cur")
		[[ ${#COMPREPLY[@]} -eq 0 ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--timeout)
		mapfile -t COMPREPLY < <(compgen -W '1s 2s 5s 10s 500ms' -- "$cur")
		return 0 ;;
	--listen)
		mapfile -t COMPREPLY < <(compgen -W '127.0.0.1:9464 0.0.0.0:9464' -- "$cur")
		return 0 ;;
	esac
	case $cmd in
	help)
		mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur") ;;
	report)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_hostup_options report)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi ;;
	*)
		mapfile -t COMPREPLY < <(compgen -W "$(_hostup_options "$cmd")" -- "$cur") ;;
	esac
	return 0
}
complete -F _hostup hostup
