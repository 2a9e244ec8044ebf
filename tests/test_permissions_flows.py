"""Who sees and changes flows: owner, users/groups shared with, staff; everyone else gets 404."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from editor.flowstore import create_flow
from editor.models import Flow
from tests.fixtures_flows import (  # noqa: F401 - fixtures
    bob_api,
    carol,
    client_for,
    fast_passwords,
    minimal_flow,
    staff_api,
    staff_user,
)

pytestmark = pytest.mark.django_db

ALICE_FLOW = "/api/flows/u/alice/private"


@pytest.fixture
def alice_flow(user):
    return create_flow("u/alice/private", minimal_flow(), user)


def test_owner_sees_own_flow(api, alice_flow):
    assert api.get(ALICE_FLOW).status_code == 200


def test_other_user_gets_404_not_403(bob_api, alice_flow):  # noqa: F811
    response = bob_api.get(ALICE_FLOW)
    assert response.status_code == 404


def test_other_user_cannot_put_patch_or_delete(bob_api, alice_flow):  # noqa: F811
    assert bob_api.put(ALICE_FLOW, minimal_flow(summary="x"), format="json").status_code == 404
    assert bob_api.patch(ALICE_FLOW, {"summary": "x"}, format="json").status_code == 404
    assert bob_api.delete(ALICE_FLOW).status_code == 404
    assert Flow.objects.get(path="u/alice/private").summary == "Minimal"


def test_other_user_does_not_see_it_in_the_list(bob_api, alice_flow):  # noqa: F811
    assert bob_api.get("/api/flows/").json()["count"] == 0


def test_other_user_cannot_diff_or_share(bob_api, alice_flow):  # noqa: F811
    assert bob_api.get(ALICE_FLOW + "/diff").status_code == 404
    assert bob_api.post(ALICE_FLOW + "/share", {"users": ["bob"]}, format="json").status_code == 404


def test_other_user_cannot_take_the_path(bob_api, alice_flow):  # noqa: F811
    response = bob_api.post("/api/flows/", {**minimal_flow(), "path": "f/taken/x"}, format="json")
    assert response.status_code == 201
    response = bob_api.post("/api/flows/", {**minimal_flow(), "path": "u/alice/private"}, format="json")
    assert response.status_code == 400


def test_sharing_with_a_user_lets_them_see_and_change(api, bob_api, alice_flow):  # noqa: F811
    response = api.post(ALICE_FLOW + "/share", {"users": ["bob"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"users": ["bob"], "groups": []}
    assert bob_api.get(ALICE_FLOW).status_code == 200
    assert bob_api.put(ALICE_FLOW, minimal_flow(summary="by bob"), format="json").status_code == 200
    assert alice_flow.versions.first().created_by.username == "bob"


def test_shared_user_cannot_reshare(api, bob_api, alice_flow):  # noqa: F811
    api.post(ALICE_FLOW + "/share", {"users": ["bob"]}, format="json")
    response = bob_api.post(ALICE_FLOW + "/share", {"users": ["bob", "carol"]}, format="json")
    assert response.status_code == 403


def test_sharing_with_a_group_lets_members_see(api, alice_flow, carol):  # noqa: F811
    group = Group.objects.create(name="ops")
    carol.groups.add(group)
    assert api.post(ALICE_FLOW + "/share", {"groups": ["ops"]}, format="json").status_code == 200
    assert client_for(carol).get(ALICE_FLOW).status_code == 200
    assert client_for(carol).get("/api/flows/").json()["count"] == 1


def test_unsharing_hides_it_again(api, bob_api, alice_flow):  # noqa: F811
    api.post(ALICE_FLOW + "/share", {"users": ["bob"]}, format="json")
    api.post(ALICE_FLOW + "/share", {"users": []}, format="json")
    assert bob_api.get(ALICE_FLOW).status_code == 404


def test_sharing_with_unknown_user_is_400(api, alice_flow):
    response = api.post(ALICE_FLOW + "/share", {"users": ["ghost"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/users"


def test_get_share_lists_current_sharing(api, alice_flow, other_user):
    alice_flow.shared_with.add(other_user)
    assert api.get(ALICE_FLOW + "/share").json() == {"users": ["bob"], "groups": []}


def test_list_items_show_sharing(api, alice_flow, other_user):
    alice_flow.shared_with.add(other_user)
    assert api.get("/api/flows/").json()["results"][0]["shared_with"] == {"users": ["bob"], "groups": []}


def test_shared_flow_listed_once_even_via_user_and_group(api, bob_api, alice_flow, other_user):  # noqa: F811
    group = Group.objects.create(name="ops")
    other_user.groups.add(group)
    alice_flow.shared_with.add(other_user)
    alice_flow.shared_with_groups.add(group)
    assert bob_api.get("/api/flows/").json()["count"] == 1


def test_staff_sees_and_changes_everything(staff_api, alice_flow):  # noqa: F811
    assert staff_api.get("/api/flows/").json()["count"] == 1
    assert staff_api.patch(ALICE_FLOW, {"summary": "by staff"}, format="json").status_code == 200


def test_staff_can_share_others_flows(staff_api, alice_flow, other_user):  # noqa: F811
    assert staff_api.post(ALICE_FLOW + "/share", {"users": ["bob"]}, format="json").status_code == 200


def test_staff_saving_in_a_users_folder_makes_that_user_owner(staff_api, user):  # noqa: F811
    response = staff_api.post("/api/flows/", {**minimal_flow(), "path": "u/alice/from_admin"}, format="json")
    assert response.status_code == 201
    assert Flow.objects.get(path="u/alice/from_admin").owner == user


def test_anonymous_gets_401_or_403_and_no_data(client, alice_flow):
    response = client.get(ALICE_FLOW)
    assert response.status_code in (401, 403)
    assert "summary" not in response.json()


def test_token_auth_works(alice_flow, user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(ALICE_FLOW).status_code == 200


def test_session_auth_needs_csrf_for_writes(user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/flows/", {**minimal_flow(), "path": "u/alice/csrf"}, format="json")
    assert response.status_code == 403
    assert not Flow.objects.exists()
