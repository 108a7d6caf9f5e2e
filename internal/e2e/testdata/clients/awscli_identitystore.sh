#!/usr/bin/env bash
# The core identity store story, told with the AWS CLI against a fresh Atrium
# node. Needs AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_DEFAULT_REGION in the environment; prints one line per step and exits
# non-zero with a clear message on the first failure.
set -euo pipefail

source "$(dirname "$0")/story.sh"

# Users, groups and memberships: the store's hex, a dash, a UUID.
id_re='^[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

out=$(run aws sso-admin list-instances --query 'Instances[].[IdentityStoreId,InstanceArn]' --output text)
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "list-instances: want one instance, got:"$'\n'"$out"
read -r store instance <<<"$out"
[[ $store =~ ^d-[0-9a-f]{10}$ ]] || fail "list-instances IdentityStoreId '$store' does not look like d-<10 hex>"
[[ $instance =~ ^arn:aws:sso:::instance/ssoins-[0-9a-f]{16}$ ]] || fail "list-instances InstanceArn '$instance'"
ok "sso-admin list-instances: $instance, identity store $store"

tag="$(date +%s)$RANDOM"
user="cli.$tag"
email="cli.$tag@example.com"
uid=$(run aws identitystore create-user --identity-store-id "$store" --user-name "$user" --display-name "CLI User" \
	--name GivenName=Cli,FamilyName=User --emails "Value=$email,Type=work,Primary=true" --query UserId --output text)
[[ $uid =~ $id_re ]] || fail "create-user UserId '$uid' does not look like <hex>-<uuid>"
[[ $uid == "${store#d-}-"* ]] || fail "create-user UserId '$uid' does not start with the store's hex ${store#d-}"
ok "create-user $user: $uid"

upper=$(tr '[:lower:]' '[:upper:]' <<<"$user")
got=$(run aws identitystore get-user-id --identity-store-id "$store" \
	--alternate-identifier "{\"UniqueAttribute\":{\"AttributePath\":\"userName\",\"AttributeValue\":\"$upper\"}}" \
	--query UserId --output text)
[[ $got == "$uid" ]] || fail "get-user-id userName=$upper: '$got', want $uid"
ok "get-user-id by userName $upper: $got"

out=$(run aws identitystore describe-user --identity-store-id "$store" --user-id "$uid" \
	--query '[UserName,DisplayName,Name.GivenName,Name.FamilyName,Emails[0].Value,to_string(Emails[0].Primary),UserStatus]' --output text)
want="$user"$'\t'"CLI User"$'\t'Cli$'\t'User$'\t'"$email"$'\t'true$'\t'ENABLED
[[ $out == "$want" ]] || fail "describe-user $uid: '$out', want '$want'"
ok "describe-user $uid: $user, $email (primary), ENABLED"

group=$(run aws identitystore create-group --identity-store-id "$store" --display-name "CLI Group $tag" \
	--description "made by the CLI" --query GroupId --output text)
[[ $group =~ $id_re ]] || fail "create-group GroupId '$group' does not look like <hex>-<uuid>"
ok "create-group 'CLI Group $tag': $group"

membership=$(run aws identitystore create-group-membership --identity-store-id "$store" --group-id "$group" \
	--member-id "UserId=$uid" --query MembershipId --output text)
[[ $membership =~ $id_re ]] || fail "create-group-membership MembershipId '$membership' does not look like <hex>-<uuid>"
ok "create-group-membership: $membership"

out=$(run aws identitystore is-member-in-groups --identity-store-id "$store" --member-id "UserId=$uid" \
	--group-ids "$group" --query 'Results[].[GroupId,MemberId.UserId,to_string(MembershipExists)]' --output text)
[[ $out == "$group"$'\t'"$uid"$'\t'true ]] || fail "is-member-in-groups: '$out', want $group $uid true"
ok "is-member-in-groups: true"

# The CLI pages through every result itself; --page-size 1 makes it follow NextToken.
listing=$(run aws identitystore list-users --identity-store-id "$store" --page-size 1 \
	--query 'Users[].[UserId,UserName]' --output text)
[[ $(awk -v id="$uid" '$1 == id' <<<"$listing") == "$uid"$'\t'"$user" ]] ||
	fail "list-users: want $uid ($user) once, got:"$'\n'"$listing"
[[ $(wc -l <<<"$listing") -eq 1 ]] || fail "list-users: want only $user, got:"$'\n'"$listing"
ok "list-users --page-size 1: $user"

run aws identitystore delete-user --identity-store-id "$store" --user-id "$uid" >/dev/null
members=$(run aws identitystore list-group-memberships --identity-store-id "$store" --group-id "$group" \
	--query 'GroupMemberships[].MembershipId' --output text)
[[ -z $members ]] || fail "list-group-memberships after delete-user: '$members', want none"
ok "delete-user $uid: its membership went with it"

unknown="${store#d-}-00000000-0000-4000-8000-000000000000"
errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT
if aws identitystore describe-user --identity-store-id "$store" --user-id "$unknown" >/dev/null 2>"$errfile"; then
	fail "describe-user $unknown succeeded; want ResourceNotFoundException"
fi
grep -q ResourceNotFoundException "$errfile" ||
	fail "describe-user $unknown: stderr does not name ResourceNotFoundException: $(cat "$errfile")"
ok "describe-user $unknown: exits non-zero with ResourceNotFoundException"

echo "PASS aws cli identitystore story: $steps steps"
