#!/usr/bin/env bash
# The permission set story, told with the AWS CLI against a fresh Atrium node:
# a group is given a permission set in a new account, the role appears there
# (seen through IAM from inside the account), a policy change is provisioned,
# the errors come as AWS gives them, and removing the assignment removes the
# role. Needs AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_DEFAULT_REGION in the environment; prints one line per step and exits
# non-zero with a clear message on the first failure.
set -euo pipefail

source "$(dirname "$0")/story.sh"

role_path=/aws-reserved/sso.amazonaws.com/
power_user=arn:aws:iam::aws:policy/PowerUserAccess
read_only=arn:aws:iam::aws:policy/ReadOnlyAccess
inline='{"Version":"2012-10-17","Statement":[{"Sid":"ReadLogs","Effect":"Allow","Action":["logs:Describe*","logs:Get*"],"Resource":"*"}]}'

# wait_succeeded WHAT CMD...: runs CMD, which prints "<Status> <FailureReason>",
# until the status leaves IN_PROGRESS; it must end SUCCEEDED.
wait_succeeded() {
	local what=$1 deadline=$((SECONDS + 30)) out status reason
	shift
	while :; do
		out=$(run "$@")
		read -r status reason <<<"$out"
		case $status in
		SUCCEEDED) return 0 ;;
		IN_PROGRESS) ((SECONDS < deadline)) || fail "$what still IN_PROGRESS after 30s" ;;
		*) fail "$what: Status '$status' (FailureReason '$reason'), want SUCCEEDED" ;;
		esac
		sleep 0.1
	done
}

# expect_error CODE WHAT CMD...: CMD must exit non-zero, naming CODE.
expect_error() {
	local code=$1 what=$2 err
	shift 2
	if err=$("$@" 2>&1 >/dev/null); then
		fail "$what succeeded; want $code"
	fi
	[[ $err == *"($code)"* ]] || fail "$what: want $code, got: $err"
}

# --- the instance and its identity store, as clients find them
out=$(run aws sso-admin list-instances --query 'Instances[].[InstanceArn,IdentityStoreId]' --output text)
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "list-instances: want one instance, got:"$'\n'"$out"
read -r instance store <<<"$out"
[[ $instance =~ ^arn:aws:sso:::instance/(ssoins-[0-9a-f]{16})$ ]] ||
	fail "list-instances InstanceArn '$instance' does not look like arn:aws:sso:::instance/ssoins-<16 hex>"
ssoins=${BASH_REMATCH[1]}
[[ $store =~ ^d-[0-9a-f]{10}$ ]] || fail "list-instances IdentityStoreId '$store' does not look like d-<10 hex>"
ok "sso-admin list-instances: $instance, identity store $store"

# --- a user in the group Developers
tag="$(date +%s)$RANDOM"
user_name="dev.$tag"
user=$(run aws identitystore create-user --identity-store-id "$store" --user-name "$user_name" \
	--display-name "Dev Eloper" --name GivenName=Dev,FamilyName=Eloper --query UserId --output text)
group=$(run aws identitystore create-group --identity-store-id "$store" --display-name Developers \
	--query GroupId --output text)
run aws identitystore create-group-membership --identity-store-id "$store" --group-id "$group" \
	--member-id "UserId=$user" >/dev/null
ok "identitystore: user $user_name ($user) in group Developers ($group)"

# --- the account Staging
out=$(run aws organizations create-account --email "staging.$tag@example.com" --account-name Staging \
	--query 'CreateAccountStatus.[Id,State]' --output text)
read -r request state <<<"$out"
deadline=$((SECONDS + 30))
while [[ $state == IN_PROGRESS ]]; do
	((SECONDS < deadline)) || fail "create-account request $request still IN_PROGRESS after 30s"
	sleep 0.1
	out=$(run aws organizations describe-create-account-status --create-account-request-id "$request" \
		--query 'CreateAccountStatus.[State,AccountId,FailureReason]' --output text)
	read -r state staging reason <<<"$out"
done
[[ $state == SUCCEEDED ]] || fail "create-account Staging: State '$state' (FailureReason '$reason'), want SUCCEEDED"
[[ $staging =~ ^[0-9]{12}$ ]] || fail "SUCCEEDED request has AccountId '$staging', want 12 digits"
ok "organizations create-account Staging: SUCCEEDED, account $staging"

# --- the permission set
out=$(run aws sso-admin create-permission-set --instance-arn "$instance" --name DeveloperAccess \
	--description "what developers need" --session-duration PT4H \
	--query 'PermissionSet.[PermissionSetArn,Name,SessionDuration]' --output text)
read -r ps name duration <<<"$out"
[[ $ps =~ ^arn:aws:sso:::permissionSet/$ssoins/ps-[0-9a-f]{16}$ ]] ||
	fail "create-permission-set PermissionSetArn '$ps' does not look like arn:aws:sso:::permissionSet/$ssoins/ps-<16 hex>"
[[ $name == DeveloperAccess && $duration == PT4H ]] || fail "create-permission-set: Name '$name', SessionDuration '$duration'"
out=$(run aws sso-admin describe-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--query 'PermissionSet.[Name,SessionDuration,Description]' --output text)
[[ $out == DeveloperAccess$'\t'PT4H$'\t'"what developers need" ]] || fail "describe-permission-set $ps: '$out'"
ok "create-permission-set DeveloperAccess PT4H: $ps"

out=$(run aws sso-admin list-permission-sets --instance-arn "$instance" --page-size 1 --query 'PermissionSets[]' --output text)
[[ $out == "$ps" ]] || fail "list-permission-sets: '$out', want $ps"
ok "list-permission-sets: $ps"

run aws sso-admin attach-managed-policy-to-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--managed-policy-arn "$power_user" >/dev/null
out=$(run aws sso-admin list-managed-policies-in-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--query 'AttachedManagedPolicies[].[Name,Arn]' --output text)
[[ $out == PowerUserAccess$'\t'"$power_user" ]] || fail "list-managed-policies-in-permission-set: '$out', want PowerUserAccess"
ok "attach-managed-policy-to-permission-set PowerUserAccess: listed"

run aws sso-admin put-inline-policy-to-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--inline-policy "$inline" >/dev/null
out=$(run aws sso-admin get-inline-policy-for-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--query InlinePolicy --output text)
[[ $out == "$inline" ]] || fail "get-inline-policy-for-permission-set: '$out', want '$inline'"
ok "put-inline-policy-to-permission-set: get-inline-policy-for-permission-set returns it"

# --- the group gets it in Staging
assignment=(--instance-arn "$instance" --target-id "$staging" --target-type AWS_ACCOUNT --permission-set-arn "$ps"
	--principal-type GROUP --principal-id "$group")
out=$(run aws sso-admin create-account-assignment "${assignment[@]}" \
	--query 'AccountAssignmentCreationStatus.[Status,RequestId,TargetId,PrincipalType,PrincipalId]' --output text)
read -r status request target ptype pid <<<"$out"
[[ $status == IN_PROGRESS && -n $request && $target == "$staging" && $ptype == GROUP && $pid == "$group" ]] ||
	fail "create-account-assignment: '$out', want IN_PROGRESS with a request id for GROUP $group in $staging"
wait_succeeded "account assignment creation $request" aws sso-admin describe-account-assignment-creation-status \
	--instance-arn "$instance" --account-assignment-creation-request-id "$request" \
	--query 'AccountAssignmentCreationStatus.[Status,FailureReason]' --output text
ok "create-account-assignment GROUP Developers in Staging: request $request SUCCEEDED"

want="$staging"$'\t'"$ps"$'\t'GROUP$'\t'"$group"
out=$(run aws sso-admin list-account-assignments --instance-arn "$instance" --account-id "$staging" --permission-set-arn "$ps" \
	--query 'AccountAssignments[].[AccountId,PermissionSetArn,PrincipalType,PrincipalId]' --output text)
[[ $out == "$want" ]] || fail "list-account-assignments: '$out', want '$want'"
ok "list-account-assignments: the group's assignment"

out=$(run aws sso-admin list-account-assignments-for-principal --instance-arn "$instance" --principal-type USER \
	--principal-id "$user" --page-size 1 \
	--query 'AccountAssignments[].[AccountId,PermissionSetArn,PrincipalType,PrincipalId]' --output text)
[[ $out == "$want" ]] || fail "list-account-assignments-for-principal USER $user: '$out', want the group's '$want'"
ok "list-account-assignments-for-principal USER $user_name: the group's assignment"

# --- the role, seen from inside Staging
out=$(run aws sts assume-role --role-arn "arn:aws:iam::$staging:role/OrganizationAccountAccessRole" \
	--role-session-name "story-$tag" --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
read -r member_key member_secret member_token <<<"$out"
[[ $member_key == ASIA* && -n $member_secret && -n $member_token ]] || fail "assume-role credentials: '$out'"
# member CMD...: the AWS CLI acting in Staging through OrganizationAccountAccessRole.
member() {
	AWS_ACCESS_KEY_ID=$member_key AWS_SECRET_ACCESS_KEY=$member_secret AWS_SESSION_TOKEN=$member_token aws "$@"
}
me=$(run member sts get-caller-identity --query Arn --output text)
[[ $me == "arn:aws:sts::$staging:assumed-role/OrganizationAccountAccessRole/story-$tag" ]] ||
	fail "get-caller-identity as the assumed role: '$me'"
ok "sts assume-role OrganizationAccountAccessRole in Staging: $me"

out=$(run member iam list-roles --path-prefix "$role_path" --query 'Roles[].[RoleName,Path]' --output text)
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "list-roles --path-prefix $role_path: want one role, got:"$'\n'"$out"
read -r role path <<<"$out"
[[ $role =~ ^AWSReservedSSO_DeveloperAccess_[0-9a-f]{16}$ ]] ||
	fail "role name '$role' does not look like AWSReservedSSO_DeveloperAccess_<16 hex>"
[[ $path == "$role_path" ]] || fail "role $role: Path '$path', want $role_path"
ok "iam list-roles --path-prefix $role_path: $role"

attached() {
	run member iam list-attached-role-policies --role-name "$role" --query 'sort(AttachedPolicies[].PolicyArn)' --output text
}
out=$(attached)
[[ $out == "$power_user" ]] || fail "list-attached-role-policies $role: '$out', want $power_user"
out=$(run member iam get-role-policy --role-name "$role" --policy-name AwsSSOInlinePolicy \
	--query 'PolicyDocument.Statement[0].Sid' --output text)
[[ $out == ReadLogs ]] || fail "get-role-policy AwsSSOInlinePolicy: statement '$out', want ReadLogs"
ok "iam list-attached-role-policies $role: PowerUserAccess; the inline policy is AwsSSOInlinePolicy"

# --- a change to the permission set waits for provisioning
run aws sso-admin attach-managed-policy-to-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--managed-policy-arn "$read_only" >/dev/null
accounts() {
	run aws sso-admin list-accounts-for-provisioned-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
		--provisioning-status "$1" --query 'AccountIds[]' --output text
}
out=$(accounts LATEST_PERMISSION_SET_NOT_PROVISIONED)
[[ $out == "$staging" ]] || fail "list-accounts-for-provisioned-permission-set NOT_PROVISIONED after a change: '$out', want $staging"
out=$(attached)
[[ $out == "$power_user" ]] || fail "the role changed before provisioning: '$out'"
ok "attach ReadOnlyAccess: Staging is LATEST_PERMISSION_SET_NOT_PROVISIONED, the role unchanged"

out=$(run aws sso-admin provision-permission-set --instance-arn "$instance" --permission-set-arn "$ps" \
	--target-type ALL_PROVISIONED_ACCOUNTS --query 'PermissionSetProvisioningStatus.[Status,RequestId]' --output text)
read -r status request <<<"$out"
[[ $status == IN_PROGRESS && -n $request ]] || fail "provision-permission-set: '$out', want IN_PROGRESS with a request id"
wait_succeeded "permission set provisioning $request" aws sso-admin describe-permission-set-provisioning-status \
	--instance-arn "$instance" --provision-permission-set-request-id "$request" \
	--query 'PermissionSetProvisioningStatus.[Status,FailureReason]' --output text
ok "provision-permission-set ALL_PROVISIONED_ACCOUNTS: request $request SUCCEEDED"

out=$(attached)
want=$(printf '%s\n' "$power_user" "$read_only" | sort | paste -sd $'\t')
[[ $out == "$want" ]] || fail "list-attached-role-policies after provisioning: '$out', want '$want'"
out=$(accounts LATEST_PERMISSION_SET_NOT_PROVISIONED)
[[ -z $out ]] || fail "Staging still NOT_PROVISIONED after provisioning: '$out'"
ok "$role now has PowerUserAccess and ReadOnlyAccess; Staging is up to date"

# --- errors as AWS gives them
expect_error ConflictException "create-permission-set DeveloperAccess a second time" \
	aws sso-admin create-permission-set --instance-arn "$instance" --name DeveloperAccess
ok "create-permission-set DeveloperAccess again: ConflictException"

unknown="arn:aws:sso:::permissionSet/$ssoins/ps-$(printf '%016x' "$tag")"
expect_error ResourceNotFoundException "describe-permission-set $unknown" \
	aws sso-admin describe-permission-set --instance-arn "$instance" --permission-set-arn "$unknown"
ok "describe-permission-set $unknown: ResourceNotFoundException"

expect_error ValidationException "create-permission-set with --session-duration PT13H" \
	aws sso-admin create-permission-set --instance-arn "$instance" --name "TooLong$tag" --session-duration PT13H
ok "create-permission-set --session-duration PT13H: ValidationException"

# --- taking the assignment away takes the role away
out=$(run aws sso-admin delete-account-assignment "${assignment[@]}" \
	--query 'AccountAssignmentDeletionStatus.[Status,RequestId]' --output text)
read -r status request <<<"$out"
[[ $status == IN_PROGRESS && -n $request ]] || fail "delete-account-assignment: '$out', want IN_PROGRESS with a request id"
wait_succeeded "account assignment deletion $request" aws sso-admin describe-account-assignment-deletion-status \
	--instance-arn "$instance" --account-assignment-deletion-request-id "$request" \
	--query 'AccountAssignmentDeletionStatus.[Status,FailureReason]' --output text
out=$(run member iam list-roles --path-prefix "$role_path" --query 'Roles[].RoleName' --output text)
[[ -z $out ]] || fail "list-roles --path-prefix $role_path after delete-account-assignment: '$out', want none"
out=$(run aws sso-admin list-account-assignments --instance-arn "$instance" --account-id "$staging" --permission-set-arn "$ps" \
	--query 'AccountAssignments[]' --output text)
[[ -z $out ]] || fail "list-account-assignments after delete-account-assignment: '$out', want none"
ok "delete-account-assignment: request $request SUCCEEDED, $role is gone"

run aws sso-admin delete-permission-set --instance-arn "$instance" --permission-set-arn "$ps" >/dev/null
expect_error ResourceNotFoundException "describe-permission-set of the deleted $ps" \
	aws sso-admin describe-permission-set --instance-arn "$instance" --permission-set-arn "$ps"
out=$(run aws sso-admin list-permission-sets --instance-arn "$instance" --query 'PermissionSets[]' --output text)
[[ -z $out ]] || fail "list-permission-sets after delete-permission-set: '$out', want none"
ok "delete-permission-set DeveloperAccess: gone"

echo "PASS aws cli sso-admin story: $steps steps"
