#!/usr/bin/env python3
"""The identity store story, told with boto3 against a fresh Atrium node:
users, groups and memberships, and the errors as AWS gives them.

Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION from the environment; prints one line per step and exits
non-zero with a clear message on the first failed assertion.
"""

import re
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import story as shared  # noqa: E402
from story import NO_VALIDATION, check, client, main, paginate, step  # noqa: E402

# AWS's shapes of the ids: the store's d-<10 hex>; users, groups and
# memberships <the store's hex>-<a UUID>.
STORE_ID = re.compile(r"d-[0-9a-f]{10}")
DIRECTORY_ID = re.compile(r"[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def expect_error(fn, code, status=400, what=""):
    """Calls fn, which must raise ClientError with code and HTTP status (the
    shared story.expect_error), with a message and the request id.

    botocore puts the exception shape's own members (Reason, ResourceType,
    ResourceId, RequestId) at the top level of e.response, beside Error and
    ResponseMetadata; Error holds only Code and Message.
    """
    e = shared.expect_error(fn, code, status, what)
    check(e.response["Error"].get("Message"), f"{what}: {code} without a message: {e.response}")
    header_id = e.response["ResponseMetadata"].get("RequestId")
    check(header_id, f"{what}: no x-amzn-RequestId header: {e.response['ResponseMetadata']}")
    # The exception shapes have a RequestId member too; when the body
    # carries it, it is the header's.
    body_id = e.response.get("RequestId")
    check(body_id in (None, header_id), f"{what}: the exception's RequestId {body_id!r} is not the header's {header_id!r}")
    return e


def expect_not_found(fn, resource_type, resource_id, what):
    e = expect_error(fn, "ResourceNotFoundException", 400, what)
    r = e.response
    check(r.get("RequestId"), f"{what}: ResourceNotFoundException without its RequestId member (response {strip(r)})")
    check(r.get("ResourceType") == resource_type,
          f"{what}: ResourceType {r.get('ResourceType')!r}, want {resource_type!r} (response {strip(r)})")
    check(r.get("ResourceId") == resource_id,
          f"{what}: ResourceId {r.get('ResourceId')!r}, want {resource_id!r} (response {strip(r)})")
    return e


def strip(d):
    d = dict(d)
    d.pop("ResponseMetadata", None)
    return d


def story():
    sso = client("sso-admin")
    ids = client("identitystore")

    # --- find the identity store, as clients do
    instances = sso.list_instances()["Instances"]
    check(len(instances) == 1, f"ListInstances: want one instance, got {instances}")
    inst = instances[0]
    store = inst.get("IdentityStoreId", "")
    check(STORE_ID.fullmatch(store), f"IdentityStoreId {store!r} does not look like d-<10 hex>")
    check(re.fullmatch(r"arn:aws:sso:::instance/ssoins-[0-9a-f]{16}", inst.get("InstanceArn", "")),
          f"InstanceArn {inst.get('InstanceArn')!r} does not look like arn:aws:sso:::instance/ssoins-…")
    step(f"sso-admin list_instances: {inst['InstanceArn']}, identity store {store}")

    def new_id():
        return f"{store[2:]}-{uuid.uuid4()}"

    # --- a user
    tag = uuid.uuid4().hex[:8]
    user_name = f"Alice.{tag}"
    email = f"alice.{tag}@example.com"
    want = {
        "UserName": user_name,
        "DisplayName": "Alice Liddell",
        "NickName": "Ally",
        "Name": {"GivenName": "Alice", "FamilyName": "Liddell"},
        "Emails": [{"Value": email, "Type": "work", "Primary": True}],
    }
    out = ids.create_user(IdentityStoreId=store, **want)
    alice = out.get("UserId", "")
    check(DIRECTORY_ID.fullmatch(alice), f"CreateUser UserId {alice!r} does not look like <hex>-<uuid>")
    check(alice.startswith(store[2:] + "-"), f"CreateUser UserId {alice!r} does not start with the store's hex {store[2:]}")
    check(out.get("IdentityStoreId") == store, f"CreateUser IdentityStoreId {out.get('IdentityStoreId')!r}, want {store}")
    step(f"create_user {user_name}: {alice}")

    u = ids.describe_user(IdentityStoreId=store, UserId=alice)
    for k, v in want.items():
        check(u.get(k) == v, f"DescribeUser {alice}: {k} = {u.get(k)!r}, want {v!r}")
    check(u.get("UserId") == alice and u.get("IdentityStoreId") == store, f"DescribeUser ids: {strip(u)}")
    check(u.get("UserStatus") == "ENABLED", f"DescribeUser UserStatus {u.get('UserStatus')!r}, want ENABLED")
    for k in ("Title", "Addresses", "PhoneNumbers", "ExternalIds", "Extensions"):
        check(k not in u, f"DescribeUser has {k} = {u.get(k)!r}, never set")
    step("describe_user: every attribute as created, UserStatus ENABLED")

    # --- GetUserId by the unique attributes
    for path, value in (("userName", user_name.upper()), ("emails.value", email)):
        got = ids.get_user_id(IdentityStoreId=store,
                              AlternateIdentifier={"UniqueAttribute": {"AttributePath": path, "AttributeValue": value}})
        check(got.get("UserId") == alice and got.get("IdentityStoreId") == store,
              f"GetUserId {path}={value!r}: {strip(got)}, want {alice}")
    step(f"get_user_id by userName {user_name.upper()!r} and by emails.value: {alice}")

    # --- every user, one per page
    others = {}
    for i in range(2):
        name = f"walker{i}.{tag}"
        others[ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=f"Walker {i}",
                               Name={"GivenName": "Walker", "FamilyName": str(i)})["UserId"]] = name
    users, pages = paginate(ids, "list_users", "Users", IdentityStoreId=store, PaginationConfig={"PageSize": 1})
    listed = [x["UserId"] for x in users]
    all_users = {alice: user_name, **others}
    for uid, name in all_users.items():
        check(listed.count(uid) == 1, f"ListUsers: {name} ({uid}) appears {listed.count(uid)} times in {listed}")
    check(len(listed) == len(all_users), f"ListUsers: want exactly {sorted(all_users)}, got {listed}")
    check(pages >= len(all_users), f"ListUsers with PageSize 1 returned {len(listed)} users in {pages} page(s)")
    by_id = {x["UserId"]: x for x in users}
    check(by_id[alice].get("UserName") == user_name and by_id[alice].get("Emails") == want["Emails"],
          f"ListUsers entry of {alice}: {by_id[alice]}")
    step(f"list_users paginated by 1: {len(listed)} users in {pages} pages, each once")

    # --- UpdateUser: replace a sub-attribute and an attribute, remove one
    ids.update_user(IdentityStoreId=store, UserId=alice, Operations=[
        {"AttributePath": "name.givenName", "AttributeValue": "Alicia"},
        {"AttributePath": "displayName", "AttributeValue": "Alicia Liddell"},
        {"AttributePath": "nickName"},
    ])
    u = ids.describe_user(IdentityStoreId=store, UserId=alice)
    check(u.get("Name") == {"GivenName": "Alicia", "FamilyName": "Liddell"}, f"after UpdateUser: Name {u.get('Name')!r}")
    check(u.get("DisplayName") == "Alicia Liddell", f"after UpdateUser: DisplayName {u.get('DisplayName')!r}")
    check("NickName" not in u, f"after removing nickName: NickName {u.get('NickName')!r}")
    check(u.get("UserName") == user_name and u.get("Emails") == want["Emails"], f"UpdateUser touched other attributes: {strip(u)}")
    step("update_user name.givenName, displayName, remove nickName: describe_user shows it")

    # --- a group
    group_name = f"Developers {tag}"
    out = ids.create_group(IdentityStoreId=store, DisplayName=group_name, Description="people who ship")
    group = out.get("GroupId", "")
    check(DIRECTORY_ID.fullmatch(group), f"CreateGroup GroupId {group!r} does not look like <hex>-<uuid>")
    check(out.get("IdentityStoreId") == store, f"CreateGroup IdentityStoreId {out.get('IdentityStoreId')!r}")
    got = ids.get_group_id(IdentityStoreId=store,
                           AlternateIdentifier={"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": group_name}})
    check(got.get("GroupId") == group, f"GetGroupId displayName={group_name!r}: {strip(got)}, want {group}")
    step(f"create_group {group_name!r}: {group}; get_group_id by displayName finds it")

    ids.update_group(IdentityStoreId=store, GroupId=group,
                     Operations=[{"AttributePath": "description", "AttributeValue": "people who ship, daily"}])
    g = ids.describe_group(IdentityStoreId=store, GroupId=group)
    check(g.get("Description") == "people who ship, daily" and g.get("DisplayName") == group_name,
          f"DescribeGroup after UpdateGroup: {strip(g)}")
    step("update_group description: describe_group shows it")

    # --- a membership
    member = {"UserId": alice}
    out = ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId=member)
    membership = out.get("MembershipId", "")
    check(DIRECTORY_ID.fullmatch(membership), f"CreateGroupMembership MembershipId {membership!r}")
    step(f"create_group_membership {user_name} in {group_name!r}: {membership}")

    res = ids.is_member_in_groups(IdentityStoreId=store, MemberId=member, GroupIds=[group])["Results"]
    check(res == [{"GroupId": group, "MemberId": member, "MembershipExists": True}], f"IsMemberInGroups: {res}")
    step("is_member_in_groups: true")

    want_m = {"IdentityStoreId": store, "MembershipId": membership, "GroupId": group, "MemberId": member}

    def same(m):
        return {k: m.get(k) for k in want_m} == want_m

    in_group, _ = paginate(ids, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=group,
                           PaginationConfig={"PageSize": 1})
    for_member, _ = paginate(ids, "list_group_memberships_for_member", "GroupMemberships", IdentityStoreId=store,
                             MemberId=member, PaginationConfig={"PageSize": 1})
    check(len(in_group) == 1 and same(in_group[0]), f"ListGroupMemberships {group}: {in_group}, want {want_m}")
    check(len(for_member) == 1 and same(for_member[0]), f"ListGroupMembershipsForMember {alice}: {for_member}, want {want_m}")
    step("list_group_memberships and list_group_memberships_for_member agree")

    got = ids.get_group_membership_id(IdentityStoreId=store, GroupId=group, MemberId=member)
    check(got.get("MembershipId") == membership and got.get("IdentityStoreId") == store,
          f"GetGroupMembershipId: {strip(got)}, want {membership}")
    step(f"get_group_membership_id: {membership}")

    ids.delete_group_membership(IdentityStoreId=store, MembershipId=membership)
    res = ids.is_member_in_groups(IdentityStoreId=store, MemberId=member, GroupIds=[group])["Results"]
    check(res == [{"GroupId": group, "MemberId": member, "MembershipExists": False}], f"IsMemberInGroups after delete: {res}")
    expect_not_found(lambda: ids.describe_group_membership(IdentityStoreId=store, MembershipId=membership),
                     "GROUP_MEMBERSHIP", membership, "DescribeGroupMembership of a deleted membership")
    step("delete_group_membership: is_member_in_groups false, describe_group_membership not found")

    # --- errors as AWS gives them
    e = expect_error(lambda: ids.create_user(IdentityStoreId=store, UserName=user_name.swapcase(), DisplayName="Copy",
                                             Name={"GivenName": "C", "FamilyName": "D"}),
                     "ConflictException", 400, f"CreateUser {user_name.swapcase()} with {user_name} taken")
    check(e.response.get("Reason") == "UNIQUENESS_CONSTRAINT_VIOLATION",
          f"duplicate user name: Reason {e.response.get('Reason')!r}, want UNIQUENESS_CONSTRAINT_VIOLATION (response {strip(e.response)})")
    check(e.response.get("RequestId"), f"duplicate user name: ConflictException without its RequestId member: {strip(e.response)}")
    step(f"create_user {user_name.swapcase()}: ConflictException, Reason UNIQUENESS_CONSTRAINT_VIOLATION")

    missing = new_id()
    expect_not_found(lambda: ids.describe_user(IdentityStoreId=store, UserId=missing), "USER", missing,
                     f"DescribeUser {missing}")
    step(f"describe_user {missing}: ResourceNotFoundException USER")

    unknown = "d-" + next(h for h in (uuid.uuid4().hex[:10] for _ in range(100)) if h != store[2:])
    expect_not_found(lambda: ids.describe_user(IdentityStoreId=unknown, UserId=alice), "IDENTITY_STORE", unknown,
                     f"DescribeUser in identity store {unknown}")
    step(f"describe_user in {unknown}: ResourceNotFoundException IDENTITY_STORE")

    expect_error(lambda: ids.create_user(IdentityStoreId=store, UserName=f"noname.{tag}", DisplayName="No Name"),
                 "ValidationException", 400, "CreateUser without Name")
    raw = client("identitystore", config=NO_VALIDATION)
    expect_error(lambda: raw.list_users(IdentityStoreId=store, MaxResults=200), "ValidationException", 400,
                 "ListUsers MaxResults=200")
    step("create_user without Name, list_users MaxResults 200: ValidationException")

    # --- deleting a user deletes its memberships
    again = ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId=member)["MembershipId"]
    in_group, _ = paginate(ids, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=group)
    check([m["MembershipId"] for m in in_group] == [again], f"ListGroupMemberships before DeleteUser: {in_group}, want [{again}]")
    ids.delete_user(IdentityStoreId=store, UserId=alice)
    in_group, _ = paginate(ids, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=group)
    check(in_group == [], f"ListGroupMemberships {group} after DeleteUser {alice}: {in_group}, want none")
    expect_not_found(lambda: ids.describe_group_membership(IdentityStoreId=store, MembershipId=again),
                     "GROUP_MEMBERSHIP", again, "DescribeGroupMembership of a deleted user's membership")
    expect_not_found(lambda: ids.describe_user(IdentityStoreId=store, UserId=alice), "USER", alice,
                     "DescribeUser of a deleted user")
    users, _ = paginate(ids, "list_users", "Users", IdentityStoreId=store)
    check(sorted(x["UserId"] for x in users) == sorted(others), f"ListUsers after DeleteUser {alice}: {users}")
    step(f"delete_user {alice}: gone, and its membership with it (the group lists none)")


if __name__ == "__main__":
    sys.exit(main(story, "boto3 identitystore story"))
