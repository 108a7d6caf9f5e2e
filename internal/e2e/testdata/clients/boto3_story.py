#!/usr/bin/env python3
"""The Organizations story, told with boto3 against a fresh Atrium node (it
counts the accounts: the management account and the one it creates).

Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION from the environment; prints one line per step and exits
non-zero with a clear message on the first failed assertion.
"""

import random
import re
import sys
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from story import NO_VALIDATION, SECRET, check, client, expect_error, main, paginate, step  # noqa: E402


def wait_create(org, request_id, want, timeout=10.0):
    """Polls DescribeCreateAccountStatus until the request leaves IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while True:
        st = org.describe_create_account_status(CreateAccountRequestId=request_id)["CreateAccountStatus"]
        check(st["Id"] == request_id, f"DescribeCreateAccountStatus answered for {st['Id']}, asked for {request_id}")
        if st["State"] != "IN_PROGRESS":
            check(st["State"] == want, f"create-account request {request_id}: want {want}, got {st}")
            return st
        check(time.monotonic() < deadline, f"create-account request {request_id} still IN_PROGRESS after {timeout}s: {st}")
        time.sleep(0.1)


def story():
    sts = client("sts")
    org = client("organizations")

    # --- who am I
    me = sts.get_caller_identity()
    account = me["Account"]
    check(re.fullmatch(r"\d{12}", account or ""), f"GetCallerIdentity Account is not 12 digits: {me}")
    check(me["Arn"].endswith(":root"), f"GetCallerIdentity Arn does not end with :root: {me['Arn']}")
    check(me["Arn"] == f"arn:aws:iam::{account}:root", f"GetCallerIdentity Arn {me['Arn']} is not the root of {account}")
    check(me.get("UserId"), f"GetCallerIdentity has no UserId: {me}")
    step(f"sts get_caller_identity: {me['Arn']}")

    o = org.describe_organization()["Organization"]
    check(re.fullmatch(r"o-[a-z0-9]{10,32}", o["Id"]), f"organization id {o['Id']!r} does not look like o-…")
    check(o["MasterAccountId"] == account, f"management account {o['MasterAccountId']} is not the caller's {account}")
    check(o["FeatureSet"] == "ALL", f"FeatureSet {o['FeatureSet']!r}, want ALL")
    check(o["Arn"] == f"arn:aws:organizations::{account}:organization/{o['Id']}", f"organization Arn {o['Arn']}")
    check(o["MasterAccountArn"] == f"arn:aws:organizations::{account}:account/{o['Id']}/{account}",
          f"MasterAccountArn {o['MasterAccountArn']}")
    step(f"organizations describe_organization: {o['Id']}, management account {account}")

    roots = org.list_roots()["Roots"]
    check(len(roots) == 1, f"ListRoots: want one root, got {roots}")
    root = roots[0]["Id"]
    check(re.fullmatch(r"r-[0-9a-z]{4,32}", root), f"root id {root!r} does not look like r-…")
    step(f"list_roots: {root}")

    # --- create an account, asynchronously
    tag = uuid.uuid4().hex[:10]
    email = f"story-{tag}@example.com"
    name = f"Story {tag}"
    st = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
    check(st["State"] == "IN_PROGRESS", f"CreateAccount: want State IN_PROGRESS, got {st}")
    check(re.fullmatch(r"car-[a-z0-9]{8,32}", st["Id"]), f"CreateAccount request id {st['Id']!r} does not look like car-…")
    check(st["AccountName"] == name, f"CreateAccount echoed AccountName {st.get('AccountName')!r}, want {name!r}")
    ok_request = st["Id"]
    step(f"create_account {email}: request {ok_request} IN_PROGRESS")

    st = wait_create(org, ok_request, "SUCCEEDED")
    new = st.get("AccountId", "")
    check(re.fullmatch(r"\d{12}", new), f"SUCCEEDED request has no 12-digit AccountId: {st}")
    check(new != account, "the new account has the management account's id")
    check("CompletedTimestamp" in st, f"SUCCEEDED request has no CompletedTimestamp: {st}")
    check("FailureReason" not in st, f"SUCCEEDED request has a FailureReason: {st}")
    step(f"describe_create_account_status: SUCCEEDED, account {new}")

    # --- list, one account per page
    accts, pages = paginate(org, "list_accounts", "Accounts", PaginationConfig={"PageSize": 1})
    ids = [a["Id"] for a in accts]
    check(ids.count(new) == 1, f"ListAccounts: new account {new} appears {ids.count(new)} times in {ids}")
    check(ids.count(account) == 1, f"ListAccounts: management account {account} appears {ids.count(account)} times in {ids}")
    check(len(ids) == 2, f"ListAccounts: want exactly the management and the new account, got {ids}")
    check(pages >= 2, f"ListAccounts with PageSize 1 returned {len(ids)} accounts in {pages} page(s)")
    step(f"list_accounts paginated by 1: {len(ids)} accounts in {pages} pages, each once")

    a = org.describe_account(AccountId=new)["Account"]
    want = {"Id": new, "Email": email, "Name": name, "Status": "ACTIVE", "JoinedMethod": "CREATED",
            "Arn": f"arn:aws:organizations::{account}:account/{o['Id']}/{new}"}
    for k, v in want.items():
        check(a.get(k) == v, f"DescribeAccount {new}: {k} = {a.get(k)!r}, want {v!r}")
    check("JoinedTimestamp" in a, f"DescribeAccount has no JoinedTimestamp: {a}")
    step(f"describe_account {new}: ACTIVE, {email}")

    # --- the same email in another case fails asynchronously
    local, domain = email.split("@")
    dup_email = f"{local.upper()}@{domain.upper()}"
    st = org.create_account(Email=dup_email, AccountName=f"Duplicate {tag}")["CreateAccountStatus"]
    check(st["State"] == "IN_PROGRESS", f"duplicate CreateAccount: want IN_PROGRESS first, got {st}")
    dup_request = st["Id"]
    st = wait_create(org, dup_request, "FAILED")
    check(st.get("FailureReason") == "EMAIL_ALREADY_EXISTS", f"duplicate email: want EMAIL_ALREADY_EXISTS, got {st}")
    check(not st.get("AccountId"), f"FAILED request names an account: {st}")
    step(f"create_account {dup_email}: FAILED EMAIL_ALREADY_EXISTS")

    def statuses(states):
        items, _ = paginate(org, "list_create_account_status", "CreateAccountStatuses", States=states,
                            PaginationConfig={"PageSize": 1})
        return items

    succeeded = statuses(["SUCCEEDED"])
    failed = statuses(["FAILED"])
    both = statuses(["SUCCEEDED", "FAILED"])
    s_ids, f_ids, b_ids = [x["Id"] for x in succeeded], [x["Id"] for x in failed], [x["Id"] for x in both]
    check(s_ids == [ok_request], f"ListCreateAccountStatus SUCCEEDED: want [{ok_request}], got {s_ids}")
    check(f_ids == [dup_request], f"ListCreateAccountStatus FAILED: want [{dup_request}], got {f_ids}")
    check(sorted(b_ids) == sorted([ok_request, dup_request]), f"ListCreateAccountStatus SUCCEEDED+FAILED: got {b_ids}")
    check(all(x["State"] == "SUCCEEDED" for x in succeeded), f"SUCCEEDED filter returned {succeeded}")
    check(failed[0].get("FailureReason") == "EMAIL_ALREADY_EXISTS", f"FAILED listing lacks the reason: {failed}")
    check(statuses(["IN_PROGRESS"]) == [], "ListCreateAccountStatus IN_PROGRESS is not empty after both finished")
    step("list_create_account_status with States: SUCCEEDED / FAILED / both / IN_PROGRESS agree")

    # --- an OU
    ou = org.create_organizational_unit(ParentId=root, Name=f"Story OU {tag}")["OrganizationalUnit"]
    ou_id = ou["Id"]
    check(re.fullmatch(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}", ou_id), f"OU id {ou_id!r} does not look like ou-…")
    check(ou["Arn"] == f"arn:aws:organizations::{account}:ou/{o['Id']}/{ou_id}", f"OU Arn {ou['Arn']}")
    step(f"create_organizational_unit under {root}: {ou_id}")

    ous, _ = paginate(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=root)
    check([x["Id"] for x in ous] == [ou_id], f"ListOrganizationalUnitsForParent {root}: want [{ou_id}], got {ous}")
    renamed = f"Story OU {tag} renamed"
    got = org.update_organizational_unit(OrganizationalUnitId=ou_id, Name=renamed)["OrganizationalUnit"]
    check(got["Name"] == renamed, f"UpdateOrganizationalUnit returned {got}")
    got = org.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]
    check(got["Name"] == renamed and got["Id"] == ou_id, f"DescribeOrganizationalUnit after rename: {got}")
    step("list_organizational_units_for_parent, update and describe the OU")

    org.move_account(AccountId=new, SourceParentId=root, DestinationParentId=ou_id)
    step(f"move_account {new}: {root} -> {ou_id}")

    in_ou, _ = paginate(org, "list_children", "Children", ParentId=ou_id, ChildType="ACCOUNT")
    check(in_ou == [{"Id": new, "Type": "ACCOUNT"}], f"ListChildren {ou_id} ACCOUNT: want only {new}, got {in_ou}")
    in_root, _ = paginate(org, "list_children", "Children", ParentId=root, ChildType="ACCOUNT")
    check([c["Id"] for c in in_root] == [account], f"ListChildren {root} ACCOUNT: want only {account}, got {in_root}")
    ou_children, _ = paginate(org, "list_children", "Children", ParentId=root, ChildType="ORGANIZATIONAL_UNIT")
    check(ou_children == [{"Id": ou_id, "Type": "ORGANIZATIONAL_UNIT"}], f"ListChildren {root} OU: {ou_children}")
    parents = org.list_parents(ChildId=new)["Parents"]
    check(parents == [{"Id": ou_id, "Type": "ORGANIZATIONAL_UNIT"}], f"ListParents {new}: want {ou_id}, got {parents}")
    parents = org.list_parents(ChildId=ou_id)["Parents"]
    check(parents == [{"Id": root, "Type": "ROOT"}], f"ListParents {ou_id}: want {root}, got {parents}")
    step("list_children and list_parents agree")

    for_parent, _ = paginate(org, "list_accounts_for_parent", "Accounts", ParentId=ou_id)
    check([x["Id"] for x in for_parent] == [new], f"ListAccountsForParent {ou_id}: want [{new}], got {for_parent}")
    for_root, _ = paginate(org, "list_accounts_for_parent", "Accounts", ParentId=root)
    check([x["Id"] for x in for_root] == [account], f"ListAccountsForParent {root}: want [{account}], got {for_root}")
    step("list_accounts_for_parent: the OU holds the new account, the root the management account")

    # --- tags
    org.tag_resource(ResourceId=new, Tags=[{"Key": "env", "Value": "story"}, {"Key": "team", "Value": "atrium"}])
    tags = org.list_tags_for_resource(ResourceId=new)["Tags"]
    check(sorted((t["Key"], t["Value"]) for t in tags) == [("env", "story"), ("team", "atrium")],
          f"ListTagsForResource after TagResource: {tags}")
    org.untag_resource(ResourceId=new, TagKeys=["team"])
    tags = org.list_tags_for_resource(ResourceId=new)["Tags"]
    check(tags == [{"Key": "env", "Value": "story"}], f"ListTagsForResource after UntagResource team: {tags}")
    step("tag_resource / list_tags_for_resource / untag_resource")

    # --- an OU that is not empty cannot go
    expect_error(lambda: org.delete_organizational_unit(OrganizationalUnitId=ou_id),
                 "OrganizationalUnitNotEmptyException", 400, f"DeleteOrganizationalUnit {ou_id} holding {new}")
    step("delete_organizational_unit while not empty: OrganizationalUnitNotEmptyException")

    org.move_account(AccountId=new, SourceParentId=ou_id, DestinationParentId=root)
    org.delete_organizational_unit(OrganizationalUnitId=ou_id)
    expect_error(lambda: org.describe_organizational_unit(OrganizationalUnitId=ou_id),
                 "OrganizationalUnitNotFoundException", 400, f"DescribeOrganizationalUnit of deleted {ou_id}")
    parents = org.list_parents(ChildId=new)["Parents"]
    check(parents == [{"Id": root, "Type": "ROOT"}], f"ListParents {new} after moving back: {parents}")
    step("move back to the root, delete_organizational_unit succeeds")

    # --- close
    org.close_account(AccountId=new)
    a = org.describe_account(AccountId=new)["Account"]
    check(a["Status"] == "SUSPENDED", f"DescribeAccount after CloseAccount: Status {a['Status']!r}, want SUSPENDED")
    listed = {x["Id"]: x for x in paginate(org, "list_accounts", "Accounts")[0]}
    check(listed.get(new, {}).get("Status") == "SUSPENDED", f"ListAccounts after CloseAccount: {listed.get(new)}")
    step(f"close_account {new}: Status SUSPENDED (State {a.get('State')}), still listed")

    expect_error(lambda: org.close_account(AccountId=new), "AccountAlreadyClosedException", 400,
                 f"CloseAccount {new} a second time")
    e = expect_error(lambda: org.close_account(AccountId=account), "ConstraintViolationException", 400,
                     "CloseAccount of the management account")
    check(e.response.get("Reason") == "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
          f"closing the management account: Reason {e.response.get('Reason')!r}, want CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
    step("close_account again: AccountAlreadyClosedException; of the management account: CANNOT_CLOSE_MANAGEMENT_ACCOUNT")

    # --- error shapes
    known = {account, new}
    unknown = next(i for i in (f"{random.randrange(10**11, 10**12)}" for _ in range(100)) if i not in known)
    e = expect_error(lambda: org.describe_account(AccountId=unknown), "AccountNotFoundException", 400,
                     f"DescribeAccount {unknown}")
    check(e.response["Error"].get("Message"), f"AccountNotFoundException without a message: {e.response}")
    step(f"describe_account {unknown}: AccountNotFoundException, HTTP 400")

    e = expect_error(lambda: org.list_accounts(NextToken="not-a-token"), "InvalidInputException", 400,
                     "ListAccounts with a made-up NextToken")
    check(e.response.get("Reason") == "INVALID_NEXT_TOKEN", f"bad NextToken: Reason {e.response.get('Reason')!r}, want INVALID_NEXT_TOKEN")
    step(f"list_accounts NextToken=garbage: InvalidInputException ({e.response['Error'].get('Message')})")

    # A genuine token, but from another operation, must not be accepted either.
    other = org.list_create_account_status(MaxResults=1)
    check(other.get("NextToken"), f"ListCreateAccountStatus MaxResults=1 over two requests gave no NextToken: {other}")
    expect_error(lambda: org.list_accounts(NextToken=other["NextToken"]), "InvalidInputException", 400,
                 "ListAccounts with ListCreateAccountStatus's NextToken")
    step("list_accounts with another operation's NextToken: InvalidInputException")

    raw = client("organizations", config=NO_VALIDATION)
    expect_error(lambda: raw.list_accounts(MaxResults=50), "ValidationException", 400, "ListAccounts MaxResults=50")
    expect_error(lambda: raw.list_accounts(MaxResults=0), "ValidationException", 400, "ListAccounts MaxResults=0")
    expect_error(lambda: raw.describe_account(AccountId="12345"), "ValidationException", 400, "DescribeAccount 12345")
    step("server-side validation: MaxResults 50 and 0, a malformed AccountId: ValidationException")

    bad_secret = SECRET[:-1] + ("A" if SECRET[-1] != "A" else "B")
    expect_error(lambda: client("sts", secret=bad_secret).get_caller_identity(), "SignatureDoesNotMatch", 403,
                 "sts with a wrong secret")
    e = expect_error(lambda: client("organizations", secret=bad_secret).describe_organization(),
                     "InvalidSignatureException", None, "organizations with a wrong secret")
    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
    check(status in (400, 403), f"organizations InvalidSignatureException with HTTP {status}")
    step(f"wrong secret: sts SignatureDoesNotMatch (403), organizations InvalidSignatureException ({status})")

    unknown_key = "AKIA" + uuid.uuid4().hex[:16].upper()
    expect_error(lambda: client("sts", key=unknown_key).get_caller_identity(), "InvalidClientTokenId", 403,
                 "sts with an unknown key")
    e = expect_error(lambda: client("organizations", key=unknown_key).list_accounts(),
                     "UnrecognizedClientException", None, "organizations with an unknown key")
    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
    check(status in (400, 403), f"organizations UnrecognizedClientException with HTTP {status}")
    step(f"unknown key: sts InvalidClientTokenId (403), organizations UnrecognizedClientException ({status})")


if __name__ == "__main__":
    sys.exit(main(story, "boto3 story"))
