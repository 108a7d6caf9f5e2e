# What the AWS CLI stories under testdata/clients share: the environment
# checks, the CLI settings, and fail/ok/run. A story script sets
# `set -euo pipefail`, then sources this file from its own folder:
#
#	source "$(dirname "$0")/story.sh"
#
# and ends with `echo "PASS <name>: $steps steps"`.

: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must name the Atrium node}"
: "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID is required}"
: "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY is required}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
# One attempt per call: a retry would hide a server that answers 5xx.
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1
export AWS_PAGER=""

steps=0
fail() {
	echo "FAIL after $steps steps: $*" >&2
	exit 1
}
ok() {
	steps=$((steps + 1))
	printf 'ok %2d %s\n' "$steps" "$*"
}
# run CMD...: runs an aws command; on failure shows its output and stops.
run() {
	local out
	if ! out=$("$@" 2>&1); then
		fail "'$*' exited non-zero: $out"
	fi
	printf '%s' "$out"
}

echo "$(aws --version 2>&1), endpoint $AWS_ENDPOINT_URL"
