from tests.conftest import login


def test_login_then_states_list(client, make_user):
    user = make_user(role="officer", state="KZ")
    assert login(client, user).status_code == 302
    page = client.get("/states/")
    assert page.status_code == 200
    assert "Kazakhstan" in page.get_data(as_text=True)
