#!/usr/bin/env bash
# The core Organizations story, told with the AWS CLI against a fresh Atrium
# node. Needs AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_DEFAULT_REGION in the environment; prints one line per step and exits
# non-zero with a clear message on the first failure.
set -euo pipefail

source "$(dirname "$0")/story.sh"

out=$(run aws sts get-caller-identity --query '[Account,Arn]' --output text)
read -r account arn <<<"$out"
[[ $account =~ ^[0-9]{12}$ ]] || fail "get-caller-identity Account '$account' is not 12 digits"
[[ $arn == "arn:aws:iam::$account:root" ]] || fail "get-caller-identity Arn '$arn' is not the root of $account"
ok "sts get-caller-identity: $arn"

out=$(run aws organizations describe-organization --query 'Organization.[Id,MasterAccountId]' --output text)
read -r org_id master <<<"$out"
[[ $org_id =~ ^o-[a-z0-9]{10,32}$ ]] || fail "describe-organization Id '$org_id' does not look like o-..."
[[ $master == "$account" ]] || fail "describe-organization MasterAccountId '$master', want the caller's $account"
ok "organizations describe-organization: $org_id, management account $master"

tag="$(date +%s)$RANDOM"
email="cli-$tag@example.com"
out=$(run aws organizations create-account --email "$email" --account-name "CLI $tag" \
	--query 'CreateAccountStatus.[Id,State]' --output text)
read -r request state <<<"$out"
[[ $request =~ ^car-[a-z0-9]{8,32}$ ]] || fail "create-account request id '$request' does not look like car-..."
[[ $state == IN_PROGRESS ]] || fail "create-account: State '$state', want IN_PROGRESS"
ok "create-account $email: request $request IN_PROGRESS"

new=""
deadline=$((SECONDS + 30)) # each CLI call pays a second or more of Python start-up
while :; do
	out=$(run aws organizations describe-create-account-status --create-account-request-id "$request" \
		--query 'CreateAccountStatus.[State,AccountId,FailureReason]' --output text)
	read -r state new reason <<<"$out"
	case $state in
	SUCCEEDED) break ;;
	IN_PROGRESS) ((SECONDS < deadline)) || fail "create-account request $request still IN_PROGRESS after 30s" ;;
	*) fail "describe-create-account-status $request: State '$state' (FailureReason '$reason')" ;;
	esac
	sleep 0.2
done
[[ $state == SUCCEEDED ]] || fail "create-account request $request still '$state' after polling"
[[ $new =~ ^[0-9]{12}$ ]] || fail "SUCCEEDED request has AccountId '$new', want 12 digits"
ok "describe-create-account-status: SUCCEEDED, account $new"

# The CLI pages through every result itself; one account per page makes it
# follow NextToken. (With --output text it applies --query page by page, so
# the query only picks fields and the counting happens here.)
listing=$(run aws organizations list-accounts --page-size 1 --query 'Accounts[].[Id,Email,Status]' --output text)
count() { awk -v id="$1" '$1 == id' <<<"$listing" | wc -l; }
[[ $(count "$new") -eq 1 ]] || fail "list-accounts: want $new once, got:"$'\n'"$listing"
[[ $(count "$account") -eq 1 ]] || fail "list-accounts: want the management account $account once, got:"$'\n'"$listing"
[[ $(wc -l <<<"$listing") -eq 2 ]] || fail "list-accounts: want exactly 2 accounts, got:"$'\n'"$listing"
line=$(awk -v id="$new" '$1 == id' <<<"$listing")
[[ $line == "$new"$'\t'"$email"$'\t'ACTIVE ]] || fail "list-accounts: the new account reads '$line', want $new $email ACTIVE"
ok "list-accounts --page-size 1: $new ($email) and the management account, once each"

out=$(run aws organizations describe-account --account-id "$new" --query 'Account.[Status,Email]' --output text)
read -r status got_email <<<"$out"
[[ $status == ACTIVE && $got_email == "$email" ]] || fail "describe-account $new: '$status' '$got_email'"
ok "describe-account $new: $status"

unknown=100000000000
while [[ $unknown == "$account" || $unknown == "$new" ]]; do unknown=$((unknown + 1)); done
errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT
if aws organizations describe-account --account-id "$unknown" >/dev/null 2>"$errfile"; then
	fail "describe-account $unknown succeeded; want AccountNotFoundException"
fi
grep -q AccountNotFoundException "$errfile" ||
	fail "describe-account $unknown: stderr does not name AccountNotFoundException: $(cat "$errfile")"
ok "describe-account $unknown: exits non-zero with AccountNotFoundException"

echo "PASS aws cli story: $steps steps"
