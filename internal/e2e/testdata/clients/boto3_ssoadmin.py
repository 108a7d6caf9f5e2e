#!/usr/bin/env python3
"""The permission set story, told with boto3 against a fresh Atrium node: a
group is given a permission set in a new account, the role appears there
(seen through IAM from inside the account), a policy change is provisioned,
the errors come as AWS gives them, and removing the assignment removes the
role.

Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION from the environment; prints one line per step and exits
non-zero with a clear message on the first failed assertion.
"""

import json
import re
import sys
import time
import uuid

import boto3

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import story as shared  # noqa: E402
from story import CONFIG, check, client, main, paginate, step  # noqa: E402

ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadLogs", "Effect": "Allow", "Action": ["logs:Describe*", "logs:Get*"], "Resource": "*"}],
}


def strip(d):
    d = dict(d)
    d.pop("ResponseMetadata", None)
    return d


def expect_error(fn, code, what):
    """The shared expect_error with AWS JSON's HTTP 400 and a message."""
    e = shared.expect_error(fn, code, 400, what)
    check(e.response["Error"].get("Message"), f"{what}: {code} without a message: {e.response}")
    return e


def session_client(service, creds):
    """A client signing with temporary credentials (STS's Credentials)."""
    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name=shared.REGION)
    return session.client(service, endpoint_url=shared.ENDPOINT, config=CONFIG)


def wait(describe, key, request_id, what, timeout=30.0):
    """Polls describe() until the request's Status leaves IN_PROGRESS; it
    must end SUCCEEDED. Returns the last status."""
    deadline = time.monotonic() + timeout
    while True:
        st = describe()[key]
        check(st.get("RequestId") == request_id, f"{what}: status of {st.get('RequestId')!r}, asked for {request_id!r}: {st}")
        if st.get("Status") != "IN_PROGRESS":
            check(st.get("Status") == "SUCCEEDED", f"{what} {request_id}: want SUCCEEDED, got {st}")
            return st
        check(time.monotonic() < deadline, f"{what} {request_id} still IN_PROGRESS after {timeout}s: {st}")
        time.sleep(0.1)


def story():
    sso = client("sso-admin")
    ids = client("identitystore")
    org = client("organizations")
    sts = client("sts")
    management = sts.get_caller_identity()["Account"]

    # --- the instance and its identity store, as clients find them
    instances = sso.list_instances()["Instances"]
    check(len(instances) == 1, f"ListInstances: want one instance, got {instances}")
    instance = instances[0].get("InstanceArn", "")
    store = instances[0].get("IdentityStoreId", "")
    m = re.fullmatch(r"arn:aws:sso:::instance/(ssoins-[0-9a-f]{16})", instance)
    check(m, f"InstanceArn {instance!r} does not look like arn:aws:sso:::instance/ssoins-<16 hex>")
    ssoins = m.group(1)
    check(re.fullmatch(r"d-[0-9a-f]{10}", store), f"IdentityStoreId {store!r} does not look like d-<10 hex>")
    step(f"sso-admin list_instances: {instance}, identity store {store}")

    # --- a user in the group Developers
    tag = uuid.uuid4().hex[:8]
    user_name = f"dev.{tag}"
    user = ids.create_user(IdentityStoreId=store, UserName=user_name, DisplayName="Dev Eloper",
                           Name={"GivenName": "Dev", "FamilyName": "Eloper"})["UserId"]
    group = ids.create_group(IdentityStoreId=store, DisplayName="Developers")["GroupId"]
    ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    step(f"identitystore: user {user_name} ({user}) in group Developers ({group})")

    # --- the account Staging
    st = org.create_account(Email=f"staging.{tag}@example.com", AccountName="Staging")["CreateAccountStatus"]
    request = st["Id"]
    deadline = time.monotonic() + 30
    while st["State"] == "IN_PROGRESS":
        check(time.monotonic() < deadline, f"create-account request {request} still IN_PROGRESS after 30s: {st}")
        time.sleep(0.1)
        st = org.describe_create_account_status(CreateAccountRequestId=request)["CreateAccountStatus"]
    check(st["State"] == "SUCCEEDED", f"create-account Staging: want SUCCEEDED, got {st}")
    staging = st.get("AccountId", "")
    check(re.fullmatch(r"\d{12}", staging), f"SUCCEEDED request has no 12-digit AccountId: {st}")
    step(f"organizations create_account Staging: SUCCEEDED, account {staging}")

    # --- the permission set
    ps = sso.create_permission_set(InstanceArn=instance, Name="DeveloperAccess", Description="what developers need",
                                   SessionDuration="PT4H")["PermissionSet"]
    ps_arn = ps.get("PermissionSetArn", "")
    check(re.fullmatch(rf"arn:aws:sso:::permissionSet/{ssoins}/ps-[0-9a-f]{{16}}", ps_arn),
          f"PermissionSetArn {ps_arn!r} does not look like arn:aws:sso:::permissionSet/{ssoins}/ps-<16 hex>")
    check(ps.get("Name") == "DeveloperAccess" and ps.get("SessionDuration") == "PT4H",
          f"CreatePermissionSet returned {ps}")
    check("CreatedDate" in ps, f"CreatePermissionSet has no CreatedDate: {ps}")
    got = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn)["PermissionSet"]
    for k in ("PermissionSetArn", "Name", "Description", "SessionDuration"):
        check(got.get(k) == ps.get(k), f"DescribePermissionSet {k} = {got.get(k)!r}, CreatePermissionSet said {ps.get(k)!r}")
    step(f"create_permission_set DeveloperAccess PT4H: {ps_arn}")

    # A second one, so that the listing has pages to follow.
    other = sso.create_permission_set(InstanceArn=instance, Name="Auditor")["PermissionSet"]["PermissionSetArn"]
    listed, pages = paginate(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance,
                             PaginationConfig={"PageSize": 1})
    check(sorted(listed) == sorted([ps_arn, other]), f"ListPermissionSets: want exactly {[ps_arn, other]}, got {listed}")
    check(pages >= 2, f"ListPermissionSets with PageSize 1 returned {len(listed)} in {pages} page(s)")
    step(f"list_permission_sets paginated by 1: {len(listed)} permission sets in {pages} pages, each once")

    sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn, ManagedPolicyArn=POWER_USER)
    managed, _ = paginate(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                          InstanceArn=instance, PermissionSetArn=ps_arn)
    check(managed == [{"Name": "PowerUserAccess", "Arn": POWER_USER}],
          f"ListManagedPoliciesInPermissionSet: want PowerUserAccess only, got {managed}")
    step("attach_managed_policy_to_permission_set PowerUserAccess: listed")

    sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn, InlinePolicy=json.dumps(INLINE))
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn).get("InlinePolicy", "")
    check(json.loads(inline) == INLINE, f"GetInlinePolicyForPermissionSet: {inline!r}, want {INLINE}")
    step("put_inline_policy_to_permission_set: get_inline_policy_for_permission_set returns it")

    # --- the group gets it in Staging
    assignment = {"InstanceArn": instance, "TargetId": staging, "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps_arn,
                  "PrincipalType": "GROUP", "PrincipalId": group}
    st = sso.create_account_assignment(**assignment)["AccountAssignmentCreationStatus"]
    check(st.get("Status") == "IN_PROGRESS" and st.get("RequestId") and "CreatedDate" in st,
          f"CreateAccountAssignment: want IN_PROGRESS with a RequestId and CreatedDate, got {st}")
    for k in ("TargetId", "TargetType", "PermissionSetArn", "PrincipalType", "PrincipalId"):
        check(st.get(k) == assignment[k], f"CreateAccountAssignment status {k} = {st.get(k)!r}, want {assignment[k]!r}")
    request = st["RequestId"]
    wait(lambda: sso.describe_account_assignment_creation_status(
        InstanceArn=instance, AccountAssignmentCreationRequestId=request),
        "AccountAssignmentCreationStatus", request, "account assignment creation")
    step(f"create_account_assignment GROUP Developers in Staging: request {request} SUCCEEDED")

    # The user also holds Auditor directly, in the management account: its
    # own access and its group's come together, page by page.
    direct = {"InstanceArn": instance, "TargetId": management, "TargetType": "AWS_ACCOUNT", "PermissionSetArn": other,
              "PrincipalType": "USER", "PrincipalId": user}
    request = sso.create_account_assignment(**direct)["AccountAssignmentCreationStatus"]["RequestId"]
    wait(lambda: sso.describe_account_assignment_creation_status(
        InstanceArn=instance, AccountAssignmentCreationRequestId=request),
        "AccountAssignmentCreationStatus", request, "account assignment creation")
    step(f"create_account_assignment USER {user_name} Auditor in the management account: request {request} SUCCEEDED")

    want = {"AccountId": staging, "PermissionSetArn": ps_arn, "PrincipalType": "GROUP", "PrincipalId": group}
    got, _ = paginate(sso, "list_account_assignments", "AccountAssignments", InstanceArn=instance, AccountId=staging,
                      PermissionSetArn=ps_arn)
    check(got == [want], f"ListAccountAssignments {staging}: want [{want}], got {got}")
    step("list_account_assignments: the group's assignment")

    def user_assignments(**kw):
        return paginate(sso, "list_account_assignments_for_principal", "AccountAssignments", InstanceArn=instance,
                        PrincipalType="USER", PrincipalId=user, **kw)

    want_direct = {"AccountId": management, "PermissionSetArn": other, "PrincipalType": "USER", "PrincipalId": user}
    got, pages = user_assignments(PaginationConfig={"PageSize": 1})
    key = lambda a: (a["AccountId"], a["PermissionSetArn"])  # noqa: E731
    check(sorted(got, key=key) == sorted([want, want_direct], key=key),
          f"ListAccountAssignmentsForPrincipal USER {user}: want the group's {want} and the direct {want_direct}, got {got}")
    check(pages >= 2, f"ListAccountAssignmentsForPrincipal with PageSize 1 returned {len(got)} in {pages} page(s)")
    got, _ = user_assignments(Filter={"AccountId": staging})
    check(got == [want], f"ListAccountAssignmentsForPrincipal USER {user} filtered to {staging}: want [{want}], got {got}")
    step(f"list_account_assignments_for_principal USER {user_name} paginated by 1: the group's and its own, "
         f"{pages} pages; filtered to Staging, the group's")

    # --- the role, seen from inside Staging
    role_arn = f"arn:aws:iam::{staging}:role/OrganizationAccountAccessRole"
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"story-{tag}")["Credentials"]
    check(creds.get("AccessKeyId", "").startswith("ASIA") and creds.get("SessionToken"),
          f"AssumeRole credentials: {creds}")
    me = session_client("sts", creds).get_caller_identity()
    check(me.get("Arn") == f"arn:aws:sts::{staging}:assumed-role/OrganizationAccountAccessRole/story-{tag}",
          f"GetCallerIdentity as the assumed role: {strip(me)}")
    iam = session_client("iam", creds)
    step(f"sts assume_role {role_arn}: {me['Arn']}")

    def sso_roles():
        roles, _ = paginate(iam, "list_roles", "Roles", PathPrefix=ROLE_PATH)
        return roles

    roles = sso_roles()
    check(len(roles) == 1, f"ListRoles {ROLE_PATH} in {staging}: want one role, got {[r.get('RoleName') for r in roles]}")
    role = roles[0]["RoleName"]
    check(re.fullmatch(r"AWSReservedSSO_DeveloperAccess_[0-9a-f]{16}", role),
          f"role name {role!r} does not look like AWSReservedSSO_DeveloperAccess_<16 hex>")
    check(roles[0].get("Path") == ROLE_PATH and roles[0].get("Arn") == f"arn:aws:iam::{staging}:role{ROLE_PATH}{role}",
          f"role {role}: Path {roles[0].get('Path')!r}, Arn {roles[0].get('Arn')!r}")
    step(f"iam list_roles --path-prefix {ROLE_PATH}: {role}")

    def attached():
        got, _ = paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)
        return sorted(p["PolicyArn"] for p in got)

    check(attached() == [POWER_USER], f"ListAttachedRolePolicies {role}: want [{POWER_USER}], got {attached()}")
    names, _ = paginate(iam, "list_role_policies", "PolicyNames", RoleName=role)
    check(names == ["AwsSSOInlinePolicy"], f"ListRolePolicies {role}: want [AwsSSOInlinePolicy], got {names}")
    doc = iam.get_role_policy(RoleName=role, PolicyName="AwsSSOInlinePolicy")["PolicyDocument"]
    check(doc == INLINE, f"GetRolePolicy AwsSSOInlinePolicy: {doc}, want {INLINE}")
    step(f"iam list_attached_role_policies {role}: PowerUserAccess; the inline policy is AwsSSOInlinePolicy")

    # --- a change to the permission set waits for provisioning
    sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn, ManagedPolicyArn=READ_ONLY)

    def accounts(status):
        got, _ = paginate(sso, "list_accounts_for_provisioned_permission_set", "AccountIds", InstanceArn=instance,
                          PermissionSetArn=ps_arn, ProvisioningStatus=status)
        return got

    outdated = accounts("LATEST_PERMISSION_SET_NOT_PROVISIONED")
    check(outdated == [staging], f"ListAccountsForProvisionedPermissionSet NOT_PROVISIONED after a change: {outdated}, want [{staging}]")
    check(attached() == [POWER_USER], f"the role changed before provisioning: {attached()}")
    step("attach ReadOnlyAccess: Staging is LATEST_PERMISSION_SET_NOT_PROVISIONED, the role unchanged")

    st = sso.provision_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                      TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
    check(st.get("Status") == "IN_PROGRESS" and st.get("RequestId"), f"ProvisionPermissionSet: {st}")
    request = st["RequestId"]
    st = wait(lambda: sso.describe_permission_set_provisioning_status(
        InstanceArn=instance, ProvisionPermissionSetRequestId=request),
        "PermissionSetProvisioningStatus", request, "permission set provisioning")
    check(st.get("PermissionSetArn") == ps_arn, f"DescribePermissionSetProvisioningStatus: {st}")
    step(f"provision_permission_set ALL_PROVISIONED_ACCOUNTS: request {request} SUCCEEDED")

    check(attached() == sorted([POWER_USER, READ_ONLY]), f"ListAttachedRolePolicies after provisioning: {attached()}")
    check(accounts("LATEST_PERMISSION_SET_NOT_PROVISIONED") == [], "Staging still NOT_PROVISIONED after provisioning")
    check(accounts("LATEST_PERMISSION_SET_PROVISIONED") == [staging], "Staging is not LATEST_PERMISSION_SET_PROVISIONED")
    check([r["RoleName"] for r in sso_roles()] == [role], f"provisioning replaced the role: {sso_roles()}")
    step(f"{role} now has PowerUserAccess and ReadOnlyAccess; Staging is up to date")

    # --- errors as AWS gives them
    expect_error(lambda: sso.create_permission_set(InstanceArn=instance, Name="DeveloperAccess"),
                 "ConflictException", "CreatePermissionSet DeveloperAccess a second time")
    step("create_permission_set DeveloperAccess again: ConflictException")

    unknown = f"arn:aws:sso:::permissionSet/{ssoins}/ps-{uuid.uuid4().hex[:16]}"
    expect_error(lambda: sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=unknown),
                 "ResourceNotFoundException", f"DescribePermissionSet {unknown}")
    step(f"describe_permission_set {unknown}: ResourceNotFoundException")

    expect_error(lambda: sso.create_permission_set(InstanceArn=instance, Name=f"TooLong{tag}", SessionDuration="PT13H"),
                 "ValidationException", "CreatePermissionSet with SessionDuration PT13H")
    step("create_permission_set with SessionDuration PT13H: ValidationException")

    # --- taking the assignment away takes the role away
    st = sso.delete_account_assignment(**assignment)["AccountAssignmentDeletionStatus"]
    check(st.get("Status") == "IN_PROGRESS" and st.get("RequestId"), f"DeleteAccountAssignment: {st}")
    request = st["RequestId"]
    wait(lambda: sso.describe_account_assignment_deletion_status(
        InstanceArn=instance, AccountAssignmentDeletionRequestId=request),
        "AccountAssignmentDeletionStatus", request, "account assignment deletion")
    roles = sso_roles()
    check(roles == [], f"ListRoles {ROLE_PATH} after the assignment is deleted: {[r['RoleName'] for r in roles]}, want none")
    got, _ = paginate(sso, "list_account_assignments", "AccountAssignments", InstanceArn=instance, AccountId=staging,
                      PermissionSetArn=ps_arn)
    check(got == [], f"ListAccountAssignments after DeleteAccountAssignment: {got}")
    got, _ = user_assignments()
    check(got == [want_direct], f"ListAccountAssignmentsForPrincipal USER after DeleteAccountAssignment: {got}, "
                                f"want only the direct {want_direct}")
    step(f"delete_account_assignment: request {request} SUCCEEDED, {role} is gone")

    sso.delete_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn)
    expect_error(lambda: sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn),
                 "ResourceNotFoundException", "DescribePermissionSet of a deleted permission set")
    listed, _ = paginate(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance)
    check(listed == [other], f"ListPermissionSets after DeletePermissionSet: {listed}, want [{other}]")
    step("delete_permission_set DeveloperAccess: gone")


if __name__ == "__main__":
    sys.exit(main(story, "boto3 sso-admin story"))
